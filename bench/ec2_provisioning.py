"""(f) EC2 API calls per node when a 50-member group is provisioned, and the wall time.

The operator runs as deployed, against moto's EC2 server as a process; a counting proxy in front
of moto sees every AWS call. RunInstances should be one per node (no duplicate launch), and
DescribeInstances one per poll round for the whole instance, not one per node. Steps use the
local command transport (moto runs no commands).
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
from support.aws_proxy import aws_proxy
from support.manifests import ec2_instance
from support.moto_server import KNOWN_AMI, MotoServer

MEMBERS = 50
TASK_TIMEOUT_SECONDS = 300.0


def _secret(kubeconfig: Path, namespace: str) -> None:
    data = {k: base64.b64encode(b"testing").decode() for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
    api.create_namespaced_secret(namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="aws-creds"), data=data))


def _provision(stack: Stack, kubeconfig: Path, endpoint: str) -> Run:
    assembly = shapes.wide_group("fleet", members=MEMBERS, command="true")
    for group in assembly["spec"]["nodeGroups"]:
        group["binding"] = {"image": KNOWN_AMI, "instanceType": "t3.micro"}
    stack.apply_assembly(assembly)
    _secret(kubeconfig, stack.kube.namespace)
    since = stack.watch.mark()
    created = stack.kube.create(r.INSTANCE_PLURAL, ec2_instance("fleet1", "fleet", endpoint=endpoint))
    return follow(stack, instance="fleet1", since=since, created=created, timeout=TASK_TIMEOUT_SECONDS,
                   mine=lambda seen: seen.instance == "fleet1")


def benchmark() -> Result:
    with tempfile.TemporaryDirectory(prefix="dtk-bench-ec2-") as tmp:
        moto = MotoServer(Path(tmp) / "moto.log")
        try:
            with aws_proxy(moto.url) as proxy, running_stack("ec2") as stack:
                started = time.perf_counter()
                done = _provision(stack, stack.workdir / "kubeconfig", proxy.url)
                wall = time.perf_counter() - started
                calls = dict(proxy.calls)
        finally:
            moto.stop()
    state = done.body.get("status", {}).get("state")
    create_stage = stage_rows(done.body)[0]
    runs, describes = calls.get("RunInstances", 0), calls.get("DescribeInstances", 0)
    figures = (
        Figure("members (nodes)", str(MEMBERS)),
        Figure("Task outcome", str(state)),
        Figure("RunInstances calls", f"{runs} ({runs / MEMBERS:.2f} per node)"),
        Figure("DescribeInstances calls (= poll rounds)", f"{describes} ({describes / MEMBERS:.2f} per node)"),
        Figure("all EC2 calls", str(sum(calls.values()))),
        Figure("create_nodes_stage wall time", secs(row_seconds(create_stage))),
        Figure("Task wall time (status)", secs(task_seconds(done.body))),
        Figure("client-observed (create -> end seen)", secs(wall)),
    )
    checks = (Check("RunInstances per node", runs / MEMBERS, 1.0, "calls/node", inclusive=True),
              Check("DescribeInstances per node", describes / MEMBERS, 1.0, "calls/node"))
    notes = ("moto answers in milliseconds and reports instances running on the next describe: on AWS, expect "
             "the stage to take as long as the slowest instance's boot, with the same call counts",)
    return Result(key="f", title=f"EC2 provisioning of a {MEMBERS}-member group", figures=figures, checks=checks,
                  notes=notes)


if __name__ == "__main__":
    run(benchmark, __doc__)
