"""Batched EC2 creation against moto's server over HTTP (SPEC section 11): a big group is launched
in RunInstances calls of up to 50 instances, each instance named by its node tag, reads stay one
DescribeInstances per poll round; and a SIGKILL before, during or after the launches still ends
with exactly one instance per node."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dtk_api import resources as r
from support.aws_proxy import AwsProxy
from support.cluster import Kube
from support.ec2 import BINDING, ec2_target, instances, secret, tags_of
from support.manifests import assembly, component, ec2_instance
from support.moto_server import MotoServer
from support.operator_process import OperatorProcess

BATCH = 50  # the operator's batch size (engine.batches.BATCH_SIZE), as a user would read it in the docs


def workers(members: int) -> dict[str, Any]:
    body = assembly("fleet", components=[component("base", "true")], nodes={},
                    groups={"workers": (members, ["base"])}, stages=[{"name": "base", "components": ["base"]}])
    body["spec"]["nodeGroups"][0]["binding"] = dict(BINDING)
    return body


def deploy_workers(kube: Kube, proxy: AwsProxy, members: int) -> str:
    secret(kube, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    kube.create(r.ASSEMBLY_PLURAL, workers(members))
    kube.create(r.INSTANCE_PLURAL, ec2_instance("f1", "fleet", target=ec2_target(kube, proxy.url)))
    return kube.first_task("f1")


def recorded(kube: Kube) -> dict[str, dict[str, Any]]:
    si = kube.get(r.INSTANCE_PLURAL, "f1") or {}
    return {n["name"]: n for n in (si.get("status") or {}).get("nodes") or []}


def assert_one_instance_per_node(kube: Kube, moto: MotoServer, members: int) -> list[dict[str, Any]]:
    """Every member has exactly one live instance, named by its node tag, and no instance is
    nobody's; the status records those very instances."""
    machines = instances(moto.url, "f1")
    named = sorted(tags_of(m).get(r.TAG_NODE, "") for m in machines)
    assert named == sorted(f"workers:{i}" for i in range(1, members + 1)), "not exactly one instance per node"
    nodes = recorded(kube)
    assert {n["name"]: n["instanceId"] for n in nodes.values()} == {
        tags_of(m)[r.TAG_NODE]: m["InstanceId"] for m in machines}
    return machines


def test_a_120_member_group_is_three_run_instances_and_one_describe_per_round(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    members = 120
    done = kube.finished_task(deploy_workers(kube, ec2_proxy, members))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    machines = assert_one_instance_per_node(kube, moto, members)
    assert ec2_proxy.calls["RunInstances"] == math.ceil(members / BATCH) == 3
    counts = [int(p["MinCount"]) for p in ec2_proxy.params["RunInstances"]]
    assert sorted(counts) == [20, 50, 50] and all(p["MaxCount"] == p["MinCount"]
                                                  for p in ec2_proxy.params["RunInstances"])
    for machine in machines:  # a batch shares a token; its launch index says which member is which
        tags, node = tags_of(machine), recorded(kube)[tags_of(machine)[r.TAG_NODE]]
        assert tags[r.TAG_TOKEN] == node["token"] and machine["AmiLaunchIndex"] == node["launchIndex"]
        assert tags["Name"] == f"f1/{tags[r.TAG_NODE]}" and tags["team"] == "data"
    describes = ec2_proxy.params["DescribeInstances"]
    # One read per poll round for the whole instance: by its tags, never by instance id, and a
    # handful for 120 nodes (a settling read per batch, shared, then the rounds until running).
    assert all(p["Filter.1.Name"] == f"tag:{r.TAG_INSTANCE}" and "InstanceId.1" not in p for p in describes)
    assert len(describes) <= 8, f"{len(describes)} DescribeInstances for {members} nodes"


def _arm(proxy: AwsProxy, point: str) -> None:
    """Sets the proxy up to stop the operator's EC2 calls at `point`."""
    if point == "before RunInstances":
        proxy.stall_operation = "RunInstances"  # the launch never reaches moto
    else:  # done in moto, the answer held back
        proxy.hold_operation = "RunInstances" if point == "before tagging" else "CreateTags"


def _reached(proxy: AwsProxy) -> bool:
    return (proxy.stalled if proxy.stall_operation else proxy.held).wait(30)


@pytest.mark.parametrize("point", ["before RunInstances", "before tagging", "while tagging"])
def test_killed_during_batched_creation_still_one_instance_per_node(
        point: str, kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    members = 60  # two batches: 50 and 10
    _arm(ec2_proxy, point)
    name = deploy_workers(kube, ec2_proxy, members)
    assert _reached(ec2_proxy), f"the operator never got {point}"
    operator.kill()  # the operator never learns what its call did
    tokens = {n: (f["token"], f["launchIndex"]) for n, f in recorded(kube).items()}
    assert len(tokens) == members, "every member's token was on record before any launch"
    ec2_proxy.hold_operation = ec2_proxy.stall_operation = ""
    ec2_proxy.release.set()
    operator.start()
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    machines = assert_one_instance_per_node(kube, moto, members)
    assert {n: (f["token"], f["launchIndex"]) for n, f in recorded(kube).items()} == tokens
    assert len({tags_of(m)[r.TAG_TOKEN] for m in machines}) == math.ceil(members / BATCH)
    everything = instances(moto.url, "f1", states=("pending", "running", "stopping", "stopped", "shutting-down",
                                                   "terminated"))
    assert len(everything) == members, "an instance was launched and thrown away"


def test_a_run_instances_answered_500_after_launching_is_not_launched_again(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    """A 5xx says nothing about whether the launch happened (moto answers 500 when a concurrent
    CreateTags trips its tag store while it writes a reply): the retry must find the batch, not
    launch it again, since moto ignores ClientToken."""
    members = 60
    ec2_proxy.lose_answers["RunInstances"] = 2  # both batches launched in moto, both told "InternalError"
    done = kube.finished_task(deploy_workers(kube, ec2_proxy, members))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert_one_instance_per_node(kube, moto, members)
    everything = instances(moto.url, "f1", states=("pending", "running", "stopping", "stopped", "shutting-down",
                                                   "terminated"))
    assert len(everything) == members and ec2_proxy.calls["RunInstances"] == 2
    assert any("RunInstances answered InternalError; retry" in m["text"] for m in done["status"]["messages"])


def test_a_restart_that_sees_part_of_a_launched_batch_waits_for_the_rest_rather_than_launch_it_again(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    """DescribeInstances is eventually consistent: moments after a launch it may list some
    instances of the reservation and not yet the others. The operator, killed before it could
    tag its batch, comes back to such a partial view: the members not listed yet are not missing."""
    members = 50  # one batch
    _arm(ec2_proxy, "before tagging")
    name = deploy_workers(kube, ec2_proxy, members)
    assert _reached(ec2_proxy), "the operator never launched"
    operator.kill()
    ec2_proxy.unlisted_indexes, ec2_proxy.unlisted_answers = set(range(30, 50)), 2  # the restart's first reads
    ec2_proxy.hold_operation = ""
    ec2_proxy.release.set()
    operator.start()
    done = kube.finished_task(name, timeout=90)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert ec2_proxy.unlisted_answers == 0, "the restart read EC2 while it listed part of the batch"
    assert_one_instance_per_node(kube, moto, members)
    everything = instances(moto.url, "f1", states=("pending", "running", "stopping", "stopped", "shutting-down",
                                                   "terminated"))
    assert len(everything) == members and ec2_proxy.calls["RunInstances"] == 1
