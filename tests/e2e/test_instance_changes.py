"""Spec changes: scaling a group, editing the Assembly, GitOps labels, hand-made Tasks."""

from __future__ import annotations

from typing import Any

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance, steps_of, task
from support.operator_process import OperatorProcess


def grouped() -> dict[str, Any]:
    return assembly("grouped", components=[component("base", "echo base on $DTK_NODE")],
                    nodes={"head": ["base"]}, groups={"workers": (2, ["base"])},
                    stages=[{"name": "base", "components": ["base"]}])


def converge_ids(kube: Kube, name: str) -> list[str]:
    return [t["metadata"]["name"] for t in kube.tasks_of(name)]


def test_scale_up_creates_only_new_members_and_scale_down_terminates_at_once(
        kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, grouped())
    kube.create(r.INSTANCE_PLURAL, instance("s", "grouped"))
    assert kube.finished_task(kube.first_task("s"))["status"]["state"] == "succeeded"
    kube.patch(r.INSTANCE_PLURAL, "s", {"spec": {"nodeGroups": [{"name": "workers", "cardinality": 4}]}})
    second = kube.wait("a second task", lambda: converge_ids(kube, "s")[1:])[0]
    steps = steps_of(kube.finished_task(second))
    assert steps["1"]["name"] == "create_nodes_stage" and steps["1"]["nodes"] == ["workers:3", "workers:4"]
    assert [steps[f"2.1.{i}"]["node"] for i in range(1, 5)] == [f"workers:{i}" for i in range(1, 5)]
    members = operator.local_root / kube.namespace / "s"
    assert sorted(p.name for p in members.iterdir()) == ["head", "workers_1", "workers_2", "workers_3", "workers_4"]

    kube.patch(r.INSTANCE_PLURAL, "s", {"spec": {"nodeGroups": [{"name": "workers", "cardinality": 2}]}})

    def shrunk() -> dict[str, Any] | None:
        si = kube.get(r.INSTANCE_PLURAL, "s")
        names = [n["name"] for n in (si or {}).get("status", {}).get("nodes", [])]
        return si if names == ["head", "workers:1", "workers:2"] else None

    kube.wait("workers:3 and workers:4 to be terminated", shrunk)
    assert sorted(p.name for p in members.iterdir()) == ["head", "workers_1", "workers_2"]
    kube.event_seen("s", "NodesTerminated", text="workers:4, workers:3")


def test_editing_the_assembly_makes_a_new_converge_task(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, grouped())
    kube.create(r.INSTANCE_PLURAL, instance("e", "grouped"))
    kube.finished_task(kube.first_task("e"))
    changed = grouped()["spec"]["components"]
    changed[0]["create"].append({"run": "echo second step"})
    kube.patch(r.ASSEMBLY_PLURAL, "grouped", {"spec": {"components": changed}})
    second = kube.wait("a task for the assembly change", lambda: converge_ids(kube, "e")[1:])[0]
    done = kube.finished_task(second)
    assert done["status"]["state"] == "succeeded"
    assert "1" in steps_of(done) and steps_of(done)["1"]["name"] == "base"  # no node stage: all exist
    assert [x["run"] for x in steps_of(done)["1.2"]["results"]] == ["echo base on $DTK_NODE", "echo second step"]


def test_gitops_tracking_labels_stay_off_tasks(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, grouped())
    body = instance("g", "grouped")
    body["metadata"]["labels"] = {"app.kubernetes.io/instance": "argo-app", "team": "data"}
    body["metadata"]["annotations"] = {"argocd.argoproj.io/tracking-id": "argo-app:dtk.io/ServiceInstance:x/g"}
    kube.create(r.INSTANCE_PLURAL, body)
    created = kube.get(r.TASK_PLURAL, kube.first_task("g"))
    assert created is not None
    meta = created["metadata"]
    assert not set(meta.get("labels", {})) & {"app.kubernetes.io/instance", "team"}
    assert "argocd.argoproj.io/tracking-id" not in meta.get("annotations", {})


def test_a_hand_made_task_joins_its_instance(kube: Kube, operator: OperatorProcess) -> None:
    asm = grouped()
    asm["spec"]["workflows"].append({"name": "hello", "stages": [{"name": "hi", "components": ["base"]}]})
    kube.create(r.ASSEMBLY_PLURAL, asm)
    kube.create(r.INSTANCE_PLURAL, instance("h", "grouped"))
    kube.finished_task(kube.first_task("h"))
    bare = task("h-hello", "h", "hello")
    del bare["metadata"]["labels"]
    kube.create(r.TASK_PLURAL, bare)
    done = kube.finished_task("h-hello")
    assert done["status"]["state"] == "succeeded"
    assert done["metadata"]["labels"][r.INSTANCE_LABEL] == "h"
    assert done["metadata"]["ownerReferences"][0]["name"] == "h"
    assert [s["node"] for s in done["status"]["steps"] if s["kind"] == "configure_node"] == [
        "workers:1", "workers:2", "head"]


def test_point_18_deleting_the_assembly_stalls_its_instances_at_once(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, assembly("short-lived", components=[component("x", "true")], nodes={"a": ["x"]},
                                            stages=[{"name": "x", "components": ["x"]}]))
    for name in ("user-1", "user-2"):
        kube.create(r.INSTANCE_PLURAL, instance(name, "short-lived"))
    for name in ("user-1", "user-2"):
        kube.condition_when(r.INSTANCE_PLURAL, name, "Ready", timeout=60)

    kube.delete(r.ASSEMBLY_PLURAL, "short-lived")
    for name in ("user-1", "user-2"):
        stalled = kube.condition_when(r.INSTANCE_PLURAL, name, "Stalled", timeout=10)
        found = condition(stalled, "Stalled")
        assert found["reason"] == "AssemblyNotFound", found
        assert "assembly 'short-lived' not found" in found["message"]
        assert condition(stalled, "Ready")["status"] == "False"
        kube.event_seen(name, "AssemblyNotFound", kind="Warning")

    kube.create(r.ASSEMBLY_PLURAL, assembly("short-lived", components=[component("x", "true")], nodes={"a": ["x"]},
                                            stages=[{"name": "x", "components": ["x"]}]))
    kube.condition_when(r.INSTANCE_PLURAL, "user-1", "Stalled", status="False", timeout=30)
