"""The ec2 target against a real moto server over HTTP: exactly-once creation, tags, node facts,
deletion, scaling, power, AWS errors, throttling, and secrets kept out of status, Events, the
log and the metrics."""

from __future__ import annotations

import base64

from dtk_api import resources as r
from support.aws_proxy import AwsProxy
from support.cluster import Kube
from support.ec2 import cluster, deploy, ec2_target, instances, secret, tags_of
from support.manifests import ec2_instance, steps_of
from support.moto_server import KNOWN_AMI, MotoServer
from support.operator_process import OperatorProcess
from support.targets import Targets


def test_a_master_and_two_slaves_are_three_tagged_instances(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    done = kube.finished_task(deploy(kube, ec2_proxy))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    machines = instances(moto.url, "c1")
    # the master alone, the two slaves in one batch (named by CreateTags once launched)
    assert len(machines) == 3 and ec2_proxy.calls["RunInstances"] == 2 and ec2_proxy.calls["CreateTags"] == 2
    si = kube.get(r.INSTANCE_PLURAL, "c1")
    assert si is not None
    nodes = {n["name"]: n for n in si["status"]["nodes"]}
    assert sorted(nodes) == ["master", "slaves:1", "slaves:2"]
    by_id = {m["InstanceId"]: m for m in machines}
    for name, node in nodes.items():
        machine = by_id[node["instanceId"]]
        assert node["state"] == "running" and node["privateIp"] == machine["PrivateIpAddress"]
        assert node["instanceType"] == "t3.micro" and node["image"] == KNOWN_AMI
        tags = tags_of(machine)
        assert tags[r.TAG_INSTANCE] == "c1" and tags[r.TAG_NAMESPACE] == kube.namespace
        assert tags[r.TAG_NODE] == name and tags[r.TAG_TOKEN] == node["token"] and tags["team"] == "data"
    worker = steps_of(done)["3.1.1"]["results"][0]
    assert worker["stdout"].strip() == f"master is {nodes['master']['privateIp']}"


def test_killed_after_run_instances_then_restarted_still_three(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    ec2_proxy.hold_operation = "RunInstances"  # done in moto, the answer held back
    name = deploy(kube, ec2_proxy)
    assert ec2_proxy.held.wait(30), "RunInstances was never called"
    operator.kill()  # the operator never learns the instance id, never writes it to status
    ec2_proxy.hold_operation = ""
    ec2_proxy.release.set()
    assert len(instances(moto.url, "c1")) >= 1
    operator.start()
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert len(instances(moto.url, "c1")) == 3


def test_delete_terminates_every_instance_and_retain_keeps_them(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    kube.finished_task(deploy(kube, ec2_proxy))
    kube.create(r.INSTANCE_PLURAL, ec2_instance("kept", "hdfs", target=ec2_target(kube, ec2_proxy.url),
                                                deletionPolicy="Retain"))
    kube.finished_task(kube.first_task("kept"))
    kube.delete(r.INSTANCE_PLURAL, "c1")
    kube.delete(r.INSTANCE_PLURAL, "kept")
    kube.wait("both instances to be released", lambda: kube.get(r.INSTANCE_PLURAL, "c1") is None
              and kube.get(r.INSTANCE_PLURAL, "kept") is None, timeout=60)
    assert instances(moto.url, "c1") == []
    assert [m["State"]["Name"] for m in instances(moto.url, "kept")] == ["running"] * 3


def test_scale_up_creates_only_new_members_and_down_terminates_highest_first(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    kube.finished_task(deploy(kube, ec2_proxy))
    kube.patch(r.INSTANCE_PLURAL, "c1", {"spec": {"nodeGroups": [{"name": "slaves", "cardinality": 4}]}})
    second = kube.wait("the scale-up task", lambda: [t["metadata"]["name"] for t in kube.tasks_of("c1")][1:])[0]
    done = kube.finished_task(second)
    assert steps_of(done)["1"]["nodes"] == ["slaves:3", "slaves:4"]
    assert len(instances(moto.url, "c1")) == 5
    kube.patch(r.INSTANCE_PLURAL, "c1", {"spec": {"nodeGroups": [{"name": "slaves", "cardinality": 2}]}})
    kube.event_seen("c1", "NodesTerminated", text="slaves:4, slaves:3", timeout=30)
    left = sorted(tags_of(m)[r.TAG_NODE] for m in instances(moto.url, "c1"))
    assert left == ["master", "slaves:1", "slaves:2"]


def test_stop_then_start_powers_on_in_stage_one(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    kube.finished_task(deploy(kube, ec2_proxy))
    kube.patch(r.INSTANCE_PLURAL, "c1", {"spec": {"power": "stopped"}})
    kube.event_seen("c1", "NodesStopped", timeout=30)
    assert {m["State"]["Name"] for m in instances(moto.url, "c1")} == {"stopped"}
    si = kube.wait("phase stopped", lambda: (kube.get(r.INSTANCE_PLURAL, "c1") or {}).get("status", {})
                   .get("phase") == "stopped")
    assert si
    kube.patch(r.INSTANCE_PLURAL, "c1", {"spec": {"power": "running"}})
    start = kube.wait("a power-on task", lambda: [t["metadata"]["name"] for t in kube.tasks_of("c1")
                                                   if t["spec"]["workflow"] == "power_on"])[0]
    done = kube.finished_task(start)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    steps = steps_of(done)
    assert steps[""]["name"] == "power_on_nodes"
    assert (steps["1"]["name"], steps["1"]["operation"]) == ("power_on_nodes_stage", "PowerOnNodes")
    assert [steps[f"1.{i}"]["kind"] for i in (1, 2, 3)] == ["power_on_node"] * 3
    assert {m["State"]["Name"] for m in instances(moto.url, "c1")} == {"running"}


def test_throttling_and_500s_are_retried_and_shown(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    ec2_proxy.fail_every = 2  # the 1st, 3rd, 5th... call of each: alternately 503 throttled and 500
    ec2_proxy.fail_operations = {"RunInstances", "DescribeInstances"}
    done = kube.finished_task(deploy(kube, ec2_proxy), timeout=90)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert ec2_proxy.faults["RunInstances"] >= 2 and ec2_proxy.faults["DescribeInstances"] >= 1
    texts = [m["text"] for m in done["status"]["messages"]]
    assert any("RequestLimitExceeded; retry" in t for t in texts)
    assert any("InternalError; retry" in t for t in texts)
    assert len(instances(moto.url, "c1")) == 3
    metrics = operator.metrics()
    assert metrics[("dtk_ec2_api_calls_total", (("operation", "RunInstances"), ("outcome", "ok")))] == 2
    assert metrics[("dtk_ec2_api_calls_total", (("operation", "RunInstances"), ("outcome", "retry")))] >= 2


def test_secret_values_appear_nowhere(kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy,
                                      targets: Targets) -> None:
    planted = {"AWS_ACCESS_KEY_ID": "AKIAPLANTEDKEY7777", "AWS_SECRET_ACCESS_KEY": "planted/SECRET+value9999"}
    secret(kube, planted)
    body = cluster()
    kube.create(r.ASSEMBLY_PLURAL, body)
    target = ec2_target(kube, ec2_proxy.url)
    kube.create(r.INSTANCE_PLURAL, ec2_instance("c1", "hdfs", target=target))
    kube.finished_task(kube.first_task("c1"))
    seen = [str(kube.get(r.INSTANCE_PLURAL, "c1")), *(str(t) for t in kube.tasks_of("c1")), str(targets.get(target)),
            *(str(e.message) for e in kube.core.list_namespaced_event(kube.namespace).items),
            operator.log.read_text(errors="replace"), str(operator.metrics())]
    for value in planted.values():
        assert not any(value in text for text in seen), "a secret value leaked"


def test_point_11_secret_values_appear_nowhere_even_at_debug_level(
        kube: Kube, verbose_operator: OperatorProcess, ec2_proxy: AwsProxy, targets: Targets) -> None:
    planted = {"AWS_ACCESS_KEY_ID": "AKIAPLANTEDKEY8888", "AWS_SECRET_ACCESS_KEY": "planted/VERBOSE+secret4242",
               "AWS_SESSION_TOKEN": "planted-session-token-31337"}
    secret(kube, planted)
    kube.create(r.ASSEMBLY_PLURAL, cluster())
    target = ec2_target(kube, ec2_proxy.url, role="arn:aws:iam::123456789012:role/dtk-deployer")  # AssumeRole too
    kube.create(r.INSTANCE_PLURAL, ec2_instance("c1", "hdfs", target=target))
    done = kube.finished_task(kube.first_task("c1"))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    log = verbose_operator.log.read_text(errors="replace")
    assert " DEBUG " in log  # -v took effect
    seen = [str(kube.get(r.INSTANCE_PLURAL, "c1")), *(str(t) for t in kube.tasks_of("c1")), str(targets.get(target)),
            *(str(e.message) for e in kube.core.list_namespaced_event(kube.namespace).items),
            log, str(verbose_operator.metrics())]
    encoded = [base64.b64encode(v.encode()).decode() for v in planted.values()]  # as the Secret's data holds them
    for value in [*planted.values(), *encoded]:
        assert not any(value in text for text in seen), f"a secret value leaked: {value}"
