"""
The operator's own checks of what users type, proven where no schema stands in front of them: an
API server with validation off (the sandbox's `--no-validation`), as objects stored under an
older CRD would be. SPEC 2: the schema refuses these, and the operator refuses them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance, task
from support.operator_process import OperatorProcess
from support.private_api import private_api

PWNED = "1; touch {marker}"


@pytest.fixture
def unvalidated(tmp_path: Path) -> Iterator[tuple[Kube, OperatorProcess]]:
    with private_api(tmp_path, validation=False) as running:
        yield running


def echo_port() -> dict[str, object]:
    return assembly("echo", components=[component("c", "echo port={{port}}", attributes={"port": "80"})],
                    nodes={"web": ["c"]}, stages=[{"name": "c", "components": ["c"]}],
                    workflows=[{"name": "use", "params": ["port"], "stages": [{"name": "c", "components": ["c"]}]}])


def test_point_9_an_unsafe_instance_attribute_stalls_the_instance_and_runs_nothing(
        unvalidated: tuple[Kube, OperatorProcess], tmp_path: Path) -> None:
    kube, _ = unvalidated
    marker = tmp_path / "pwned"
    kube.create(r.ASSEMBLY_PLURAL, echo_port())
    kube.create(r.INSTANCE_PLURAL, instance("app", "echo", attributes={"web/c.port": PWNED.format(marker=marker)}))
    si = kube.condition_when(r.INSTANCE_PLURAL, "app", "Stalled")
    assert condition(si, "Stalled")["reason"] == "InvalidSpec"
    assert condition(si, "Stalled")["message"] == (
        "attribute 'web/c.port' has a value that is not allowed: only letters, digits and ._:/@+=,- may be used, "
        "at most 256 of them")
    kube.event_seen("app", "InvalidSpec", kind="Warning")
    assert kube.tasks_of("app") == [] and not marker.exists()


def test_point_12_a_param_longer_than_256_characters_fails_the_task_before_anything_runs(
        unvalidated: tuple[Kube, OperatorProcess]) -> None:
    kube, _ = unvalidated
    kube.create(r.ASSEMBLY_PLURAL, echo_port())
    kube.create(r.INSTANCE_PLURAL, instance("app", "echo"))
    assert kube.finished_task(kube.first_task("app"))["status"]["state"] == "succeeded"
    kube.create(r.TASK_PLURAL, task("app-long", "app", "use", params={"port": "8" * 257}))
    done = kube.finished_task("app-long")
    assert done["status"]["state"] == "failed"
    assert "param 'port' has a value that is not allowed" in done["status"]["failure"]["message"]
    assert not any(s.get("status") == "succeeded" for s in done["status"].get("steps", [])[1:])


def test_point_8_node_folders_stay_apart_and_inside_the_local_root(
        unvalidated: tuple[Kube, OperatorProcess]) -> None:
    kube, operator = unvalidated
    kube.create(r.ASSEMBLY_PLURAL, assembly(
        "paths", components=[component("c", "pwd > where")], nodes={"../../x": ["c"], "g_1": ["c"]},
        groups={"g": (1, ["c"])}, stages=[{"name": "c", "components": ["c"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("app", "paths"))
    assert kube.finished_task(kube.first_task("app"))["status"]["state"] == "succeeded"
    folder = operator.local_root / kube.namespace / "app"
    assert sorted(p.name for p in folder.iterdir()) == ["%2E%2E%2F%2E%2E%2Fx", "g%5F1", "g_1"]  # g:1 is g_1
    for node in folder.iterdir():
        assert (node / "where").read_text().strip() == str(node)  # each ran in its own folder
    assert sorted(p.name for p in operator.local_root.iterdir()) == [kube.namespace]  # nothing beside it

    keep = operator.local_root / kube.namespace / "other"
    keep.mkdir()
    kube.delete(r.INSTANCE_PLURAL, "app")
    kube.wait("the instance to be gone", lambda: kube.get(r.INSTANCE_PLURAL, "app") is None)
    assert not folder.exists() and keep.exists()


@pytest.mark.parametrize(("case", "change", "says"), [
    ("step timeout 0", lambda s: s["components"][0]["create"][0].update(timeoutSeconds=0),
     "component 'c': timeoutSeconds must be a whole number of seconds, 1 or more (got 0)"),
    ("run not a string", lambda s: s["components"][0]["create"][0].update(run=5),
     "component 'c': a step's run must be a non-empty string (got 5)"),
    ("cardinality a string", lambda s: s["nodeGroups"][0].update(cardinality="2"),
     "node group 'g' has cardinality '2'; it must be 0 or more"),
    ("a group over SPEC 11's 5,000", lambda s: s["nodeGroups"][0].update(cardinality=5001),
     "node group 'g' has cardinality 5,001; at most 5,000 members per group"),
    ("a workflow over SPEC 11's 200 stages",
     lambda s: s["workflows"][0].update(stages=[{"name": f"s{n}", "components": ["c"]} for n in range(201)]),
     "has 201 stages; at most 200 per workflow"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_points_1_and_13_a_malformed_assembly_is_stalled_saying_why(
        case: str, change: Any, says: str, unvalidated: tuple[Kube, OperatorProcess]) -> None:
    kube, operator = unvalidated
    body = assembly("bad", components=[component("c", "true")], nodes={"web": ["c"]}, groups={"g": (1, ["c"])},
                    stages=[{"name": "c", "components": ["c"]}])
    change(body["spec"])
    kube.create(r.ASSEMBLY_PLURAL, body)
    got = kube.condition_when(r.ASSEMBLY_PLURAL, "bad", "Stalled")
    assert says in condition(got, "Stalled")["message"]
    kube.event_seen("bad", "InvalidSpec", kind="Warning")
    assert "Traceback" not in operator.log.read_text(errors="replace")


def test_point_13_a_negative_group_override_stalls_the_instance(unvalidated: tuple[Kube, OperatorProcess]) -> None:
    kube, _ = unvalidated
    kube.create(r.ASSEMBLY_PLURAL, assembly("grp", components=[component("c", "true")], nodes={"web": ["c"]},
                                            groups={"g": (1, ["c"])}, stages=[{"name": "c", "components": ["c"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("app", "grp", nodeGroups=[{"name": "g", "cardinality": -1}]))
    si = kube.condition_when(r.INSTANCE_PLURAL, "app", "Stalled")
    assert condition(si, "Stalled")["message"] == "nodeGroups: group 'g' has cardinality -1; it must be 0 or more"
    assert kube.tasks_of("app") == []


def test_an_instance_override_over_5000_members_stalls_the_instance(unvalidated: tuple[Kube, OperatorProcess]) -> None:
    """SPEC 11: the schema's maximum, checked again for an API server that did not apply it."""
    kube, _ = unvalidated
    kube.create(r.ASSEMBLY_PLURAL, assembly("grp", components=[component("c", "true")], nodes={},
                                            groups={"g": (1, ["c"])}, stages=[{"name": "c", "components": ["c"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("app", "grp", nodeGroups=[{"name": "g", "cardinality": 5001}]))
    si = kube.condition_when(r.INSTANCE_PLURAL, "app", "Stalled")
    assert condition(si, "Stalled")["message"] == (
        "nodeGroups: group 'g' has cardinality 5,001; at most 5,000 members per group")
    assert kube.tasks_of("app") == []


@pytest.mark.parametrize("timeout", [0, "abc"], ids=["zero", "a string"])
def test_points_1_and_13_a_bad_task_timeout_fails_the_task_at_once_and_the_next_one_runs(
        timeout: object, unvalidated: tuple[Kube, OperatorProcess]) -> None:
    kube, operator = unvalidated
    kube.create(r.ASSEMBLY_PLURAL, echo_port())
    kube.create(r.INSTANCE_PLURAL, instance("app", "echo"))
    assert kube.finished_task(kube.first_task("app"))["status"]["state"] == "succeeded"
    kube.create(r.TASK_PLURAL, task("app-bad", "app", "use", params={"port": "81"}, timeoutSeconds=timeout))
    kube.create(r.TASK_PLURAL, task("app-next", "app", "use", params={"port": "82"}))
    bad = kube.finished_task("app-bad", timeout=10)
    assert bad["status"]["state"] == "failed"
    assert bad["status"]["failure"]["message"] == (
        f"task is invalid: spec.timeoutSeconds must be a whole number of seconds, 1 or more (got {timeout!r})")
    kube.event_seen("app-bad", "TaskFailed", kind="Warning")
    assert kube.finished_task("app-next", timeout=10)["status"]["state"] == "succeeded"
    assert "Traceback" not in operator.log.read_text(errors="replace")


@pytest.mark.parametrize(("spec", "says"), [
    ("garbage", "spec must be an object"),
    ({"assemblyRef": {"name": "echo"}, "targetRef": "nonsense"}, "spec.targetRef must be {name: <a Target>}"),
    ({"assemblyRef": "echo"}, "spec.assemblyRef.name must name an Assembly"),
    ({"assemblyRef": {"name": "echo"}, "nodeGroups": "many"}, "spec.nodeGroups must be a list"),
])
def test_points_1_and_2_a_malformed_instance_is_stalled_saying_why_and_deleted_at_once(
    unvalidated: tuple[Kube, OperatorProcess], spec: object, says: str
) -> None:
    kube, _ = unvalidated
    kube.create(r.ASSEMBLY_PLURAL, echo_port())
    kube.create(r.INSTANCE_PLURAL, {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND,
                                    "metadata": {"name": "bent"}, "spec": spec})
    stalled = condition(kube.condition_when(r.INSTANCE_PLURAL, "bent", "Stalled", timeout=15), "Stalled")
    assert stalled["reason"] == "InvalidSpec" and says in stalled["message"], stalled
    kube.event_seen("bent", "InvalidSpec", kind="Warning")

    kube.delete(r.INSTANCE_PLURAL, "bent")
    kube.wait("the instance to be gone", lambda: kube.get(r.INSTANCE_PLURAL, "bent") is None and "gone", timeout=10)
    assert "the spec cannot be read" in kube.event_seen("bent", "CleanupAbandoned", kind="Warning").message
