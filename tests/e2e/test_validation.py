"""Bad input gets a clear error and loses nothing; the operator keeps serving everything else."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance
from support.operator_process import OperatorProcess


def valid() -> dict[str, Any]:
    return assembly("good", components=[component("a", "echo a", actions={"check": ["true"]}), component("b", "true")],
                    nodes={"web": ["a", "b"]}, groups={"g": (1, ["a"])},
                    stages=[{"name": "a", "components": ["a"]}, {"name": "check", "actions": ["a.check"]}])


def _spec(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(valid())
    mutate(body["spec"])
    return body


BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown component on a node": lambda s: s["nodes"][0]["components"].append("ghost"),
    "unknown component in a stage": lambda s: s["workflows"][0]["stages"].append(
        {"name": "x", "components": ["ghost"]}),
    "action not defined": lambda s: s["workflows"][0]["stages"].append({"name": "x", "actions": ["a.nope"]}),
    "duplicate component names": lambda s: s["components"].append(component("a", "true")),
    "duplicate node names": lambda s: s["nodes"].append({"name": "web", "components": []}),
    "negative cardinality": lambda s: s["nodeGroups"][0].update(cardinality=-1),
    "stage with two kinds": lambda s: s["workflows"][0]["stages"].append(
        {"name": "x", "components": ["a"], "actions": ["a.check"]}),
    "stage with no kind": lambda s: s["workflows"][0]["stages"].append({"name": "x"}),
    "stage node that does not exist": lambda s: s["workflows"][0]["stages"][0].update(node="ghost"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_invalid_assembly_is_refused_or_stalled(case: str, kube: Kube, operator: OperatorProcess) -> None:
    name = "bad"
    body = _spec(BROKEN[case])
    body["metadata"]["name"] = name
    try:
        kube.create(r.ASSEMBLY_PLURAL, body)
    except ApiException as refused:  # the CRD schema said no (a real API server)
        assert refused.status == 422
    else:
        got = kube.condition_when(r.ASSEMBLY_PLURAL, name, "Stalled")
        assert "assembly is invalid" in condition(got, "Stalled")["message"]
        kube.event_seen(name, "InvalidSpec", kind="Warning")
        kube.create(r.INSTANCE_PLURAL, instance("uses-bad", name))
        si = kube.condition_when(r.INSTANCE_PLURAL, "uses-bad", "Stalled")
        assert condition(si, "Stalled")["reason"] == "InvalidSpec" and kube.tasks_of("uses-bad") == []
    # The operator still serves good objects next to the bad one.
    kube.create(r.ASSEMBLY_PLURAL, valid())
    kube.create(r.INSTANCE_PLURAL, instance("fine", "good"))
    assert kube.finished_task(kube.first_task("fine"))["status"]["state"] == "succeeded"


def test_local_target_is_refused_without_the_flag(kube: Kube, strict_operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, valid())
    kube.create(r.INSTANCE_PLURAL, instance("nope", "good"))
    si = kube.condition_when(r.INSTANCE_PLURAL, "nope", "Stalled")
    assert condition(si, "Stalled")["reason"] == "LocalTargetDisabled"
    assert "--allow-local-target" in condition(si, "Stalled")["message"]
    assert kube.tasks_of("nope") == []
    kube.event_seen("nope", "LocalTargetDisabled", kind="Warning")


def wide_assembly(command: str) -> dict[str, Any]:
    stages = [{"name": "a", "components": ["a"]}, {"name": "w", "components": ["w"]}]
    body = assembly("wide", components=[component("w", "echo first", command), component("a", "true")],
                    nodes={"web": ["a"]}, stages=stages)
    body["spec"]["assemblyWide"] = ["w"]
    return body


def test_node_name_on_an_assembly_wide_row_is_assembly_wide(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, wide_assembly("echo on {{node.name}}"))
    kube.create(r.INSTANCE_PLURAL, instance("wide", "wide"))
    done = kube.finished_task(kube.first_task("wide"))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    row = next(s for s in done["status"]["steps"] if s.get("node") == "assembly_wide")
    assert row["results"][-1]["stdout"] == "on assembly_wide\n"


def test_an_address_on_an_assembly_wide_row_fails_the_task_before_anything_runs(
        kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, wide_assembly("ping -c1 {{node.privateIp}}"))
    kube.create(r.INSTANCE_PLURAL, instance("wide", "wide"))
    done = kube.finished_task(kube.first_task("wide"))
    assert done["status"]["state"] == "failed"
    message = done["status"]["failure"]["message"]
    assert "'{{node.privateIp}}' in 'ping -c1 {{node.privateIp}}'" in message
    assert "an assembly-wide component has no machine" in message
    assert not any(s.get("status") in ("executing", "succeeded") for s in done["status"].get("steps", [])[1:])
