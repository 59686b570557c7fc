"""(f) EC2 API calls when a 500-member group is provisioned, the wall time, and the same after a
SIGKILL during creation.

The operator runs as deployed, against moto's EC2 server as a process; a counting proxy in front
of moto sees every AWS call. Creation is batched: RunInstances at most one per 50 nodes (one
client token and tag per batch, each instance named by CreateTags right after), and
DescribeInstances one per poll round for the whole instance (by its tags, never by instance id),
not one per node. The second run kills the operator (SIGKILL) as soon as moto has done the first
RunInstances, whose answer the proxy holds back, then starts it again: every node must still
have exactly one instance. Steps use the local command transport (moto runs no commands).
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path

from benchkit import shapes
from benchkit.cli import run
from benchkit.figures import row_seconds, stage_rows, task_seconds
from benchkit.report import Check, Figure, Result, secs
from benchkit.scenarios import Run, follow
from benchkit.stack import Stack, running_stack
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from dtk_api import resources as r

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.aws_proxy import AwsProxy, aws_proxy
from support.ec2 import instances, tags_of
from support.manifests import ec2_instance
from support.moto_server import KNOWN_AMI, MotoServer
from support.targets import target_body

MEMBERS = 500
TASK_TIMEOUT_SECONDS = 300.0
HELD_TIMEOUT_SECONDS = 60.0  # the first RunInstances comes within seconds of the instance's creation


def _secret(kubeconfig: Path, namespace: str) -> None:
    data = {k: base64.b64encode(b"testing").decode() for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
    api.create_namespaced_secret(namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="aws-creds"), data=data))


def _target(kubeconfig: Path, namespace: str, instance: str, endpoint: str) -> str:
    """An ec2 Target on moto through this run's counting proxy, its credentials in the bench's namespace."""
    name = f"{namespace}-{instance}"
    body = target_body(name, endpoint=endpoint, secret={"name": "aws-creds", "namespace": namespace},
                       allowed={"list": [namespace]})
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
    api.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, body)
    return name


def _provision(stack: Stack, name: str, proxy: AwsProxy, *, kill: bool = False) -> Run:
    """Creates the instance and follows its first Task; with `kill`, SIGKILLs the operator once
    moto has launched the first batch (its answer held back) and starts it again."""
    since = stack.watch.mark()
    if kill:
        proxy.hold_operation = "RunInstances"
    target = _target(stack.workdir / "kubeconfig", stack.kube.namespace, name, proxy.url)
    created = stack.kube.create(r.INSTANCE_PLURAL, ec2_instance(name, "fleet", target=target))
    if kill:
        if not proxy.held.wait(HELD_TIMEOUT_SECONDS):
            raise TimeoutError("RunInstances was never called")
        process = stack.operator.process
        if process is not None:
            process.kill()
            process.wait()
        proxy.hold_operation = ""
        proxy.release.set()
        stack.operator.start()
    return follow(stack, instance=name, since=since, created=created, timeout=TASK_TIMEOUT_SECONDS,
                  mine=lambda seen: seen.instance == name)


def _per_node(moto: MotoServer, name: str) -> tuple[int, int, int]:
    """(live instances, distinct node tags among them, instances without a node tag)."""
    machines = instances(moto.url, name)
    tags = [tags_of(m).get(r.TAG_NODE, "") for m in machines]
    return len(machines), len({t for t in tags if t}), tags.count("")


def _figures(done: Run, calls: dict[str, int], wall: float, proxy: AwsProxy) -> tuple[Figure, ...]:
    create_stage = stage_rows(done.body)[0]
    runs, describes = calls.get("RunInstances", 0), calls.get("DescribeInstances", 0)
    by_id = sum(1 for p in proxy.params.get("DescribeInstances", []) if "InstanceId.1" in p)
    return (
        Figure("RunInstances calls", f"{runs} ({runs / MEMBERS:.3f} per node)"),
        Figure("CreateTags calls", str(calls.get("CreateTags", 0))),
        Figure("DescribeInstances calls (= poll rounds + settling reads)",
               f"{describes} ({describes / MEMBERS:.3f} per node; {by_id} by instance id)"),
        Figure("all EC2 calls", str(sum(calls.values()))),
        Figure("time moto spent answering (RunInstances / CreateTags / DescribeInstances)",
               " / ".join(secs(proxy.seconds[op]) for op in ("RunInstances", "CreateTags", "DescribeInstances"))),
        Figure("create_nodes_stage wall time", secs(row_seconds(create_stage))),
        Figure("Task wall time (status)", secs(task_seconds(done.body))),
        Figure("client-observed (create -> end seen)", secs(wall)),
    )


def benchmark() -> Result:
    with tempfile.TemporaryDirectory(prefix="dtk-bench-ec2-") as tmp:
        moto = MotoServer(Path(tmp) / "moto.log")
        try:
            with aws_proxy(moto.url) as plain, aws_proxy(moto.url) as killed, running_stack("ec2") as stack:
                assembly = shapes.wide_group("fleet", members=MEMBERS, command="true")
                for group in assembly["spec"]["nodeGroups"]:
                    group["binding"] = {"image": KNOWN_AMI, "instanceType": "t3.micro"}
                stack.apply_assembly(assembly)
                _secret(stack.workdir / "kubeconfig", stack.kube.namespace)
                started = time.perf_counter()
                done = _provision(stack, "fleet1", plain)
                wall = time.perf_counter() - started
                calls = dict(plain.calls)
                started = time.perf_counter()
                after_kill = _provision(stack, "fleet2", killed, kill=True)
                kill_wall = time.perf_counter() - started
                kill_calls = dict(killed.calls)
                plain_count, killed_count = _per_node(moto, "fleet1"), _per_node(moto, "fleet2")
        finally:
            moto.stop()
    runs = calls.get("RunInstances", 0)
    figures = (
        Figure("members (nodes)", str(MEMBERS)),
        Figure("Task outcome", str(done.body.get("status", {}).get("state"))),
        *_figures(done, calls, wall, plain),
        Figure("instances per node", f"{plain_count[0] / MEMBERS:.3f} ({plain_count[1]} nodes named, "
                                     f"{plain_count[2]} unnamed)"),
        Figure("after SIGKILL during creation: Task outcome", str(after_kill.body.get("status", {}).get("state"))),
        Figure("after SIGKILL: instances per node", f"{killed_count[0] / MEMBERS:.3f} ({killed_count[0]} live, "
                                                    f"{killed_count[1]} nodes named, {killed_count[2]} unnamed)"),
        Figure("after SIGKILL: RunInstances calls, both lives", str(kill_calls.get("RunInstances", 0))),
        Figure("after SIGKILL: client-observed (create -> end seen, restart included)", secs(kill_wall)),
    )
    checks = (Check("RunInstances per 50 nodes", runs / (MEMBERS / 50), 1.0, "calls", inclusive=True),
              Check("DescribeInstances per node", calls.get("DescribeInstances", 0) / MEMBERS, 1.0, "calls/node"),
              Check("instances per node after SIGKILL", killed_count[0] / MEMBERS, 1.0, "instances/node",
                    inclusive=True))
    notes = ("moto answers in milliseconds and reports instances running on the next describe: on AWS, expect "
             "the stage to take as long as the slowest instance's boot, with the same call counts",)
    return Result(key="f", title=f"EC2 provisioning of a {MEMBERS}-member group", figures=figures, checks=checks,
                  notes=notes)


if __name__ == "__main__":
    run(benchmark, __doc__)
