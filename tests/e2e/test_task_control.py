"""Cancel, queueing, staging and deletion: what users drive with kubectl and GitOps."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance, steps_of, task
from support.operator_process import OperatorProcess


def slow_assembly(name: str = "slow", seconds: int = 30) -> dict[str, Any]:
    """Stage 2 sleeps on two nodes at once; the marker files tell whether a command outlived a cancel."""
    sleeper = component("sleeper", f"sleep {seconds} && touch sleeper-finished")
    return assembly(name, components=[component("quick", "echo ok"), sleeper],
                    nodes={"a": ["quick", "sleeper"], "b": ["sleeper"]},
                    stages=[{"name": "quick", "components": ["quick"]}, {"name": "sleep", "components": ["sleeper"]}],
                    workflows=[{"name": "noop", "stages": [{"name": "again", "components": ["quick"]}]}])


def first_task(kube: Kube, instance_name: str) -> str:
    return kube.first_task(instance_name)


def row_status(index: str, wanted: str) -> Any:
    return lambda t: steps_of(t).get(index, {}).get("status") == wanted


def test_cancel_in_the_middle_of_a_stage(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, slow_assembly())
    kube.create(r.INSTANCE_PLURAL, instance("c", "slow"))
    name = kube.first_task("c")
    kube.task_when(name, row_status("3", "executing"), what="stage 3 to start")
    kube.patch(r.TASK_PLURAL, name, {"spec": {"cancel": True}})
    done = kube.finished_task(name, timeout=10)
    steps = steps_of(done)
    assert done["status"]["state"] == "cancelled"
    assert steps["3"]["status"] == "cancelled" and steps[""]["status"] == "cancelled"
    assert {steps["3.1"]["status"], steps["3.2"]["status"]} == {"cancelled"}
    assert steps["2"]["status"] == "succeeded"
    assert condition(done, "Completed")["status"] == "True"
    # `cancel: true` bumped the generation: the final status has seen it (kstatus: Current, not InProgress).
    assert done["status"]["observedGeneration"] == done["metadata"]["generation"] == 2
    assert condition(done, "Completed")["observedGeneration"] == 2
    assert not list(operator.local_root.rglob("sleeper-finished"))  # the sleeps were killed, not waited for
    kube.event_seen(name, "TaskCancelled", kind="Warning")


def test_tasks_of_one_instance_queue_and_run_in_creation_order(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, slow_assembly(seconds=6))  # long enough for the others to queue behind it
    kube.create(r.INSTANCE_PLURAL, instance("q", "slow"))
    first = kube.first_task("q")
    kube.task_when(first, lambda t: t.get("status", {}).get("state") == "executing")
    extras = [f"q-extra-{n}" for n in range(1, 5)]
    for name in extras:  # within one second: creationTimestamp cannot order them, the arrival order must
        kube.create(r.TASK_PLURAL, task(name, "q", "noop"))
    waiting = kube.task_when("q-extra-1", lambda t: bool(t.get("status", {}).get("message")), what="a pending task")
    assert waiting["status"]["state"] == "pending"
    assert waiting["status"]["message"] == f"waiting for task {first} to finish"
    ends = [kube.finished_task(n, timeout=30)["status"] for n in (first, *extras)]
    assert [s["state"] for s in ends] == ["succeeded"] * 5
    # never two at once: each starts after the one before it ended, in the order they were created
    for before, after in itertools.pairwise(ends):
        assert before["endedAt"] <= after["startedAt"], (before, after)


def test_a_staged_instance_runs_nothing_until_deployed(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, slow_assembly(seconds=0))
    kube.create(r.INSTANCE_PLURAL, instance("st", "slow", staged=True))

    def observed() -> dict[str, Any] | None:
        si = kube.get(r.INSTANCE_PLURAL, "st")
        return si if si and (si.get("status") or {}).get("observedGeneration") == 1 else None

    si = kube.wait("the operator to observe the staged instance", observed)
    assert si["status"]["phase"] == "pending" and "lastRun" not in si["status"]
    assert condition(si, "Ready")["reason"] == "Staged"
    assert kube.tasks_of("st") == []
    kube.patch(r.INSTANCE_PLURAL, "st", {"spec": {"staged": False}})
    name = kube.first_task("st")
    assert kube.finished_task(name)["status"]["state"] == "succeeded"
    assert kube.condition_when(r.INSTANCE_PLURAL, "st", "Ready")["status"]["phase"] == "running"


def test_delete_while_a_task_runs_cancels_it_and_releases_the_nodes(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, slow_assembly())
    kube.create(r.INSTANCE_PLURAL, instance("d", "slow"))
    name = kube.first_task("d")
    kube.task_when(name, row_status("3", "executing"), what="stage 3 to start")
    node_dirs: list[Path] = [p for p in operator.local_root.rglob("*") if p.is_dir() and p.parent.name == "d"]
    assert len(node_dirs) == 2
    kube.delete(r.INSTANCE_PLURAL, "d")
    kube.wait("the instance to be released", lambda: kube.get(r.INSTANCE_PLURAL, "d") is None, timeout=20)
    assert not any(p.exists() for p in node_dirs)
    cancelled = kube.get(r.TASK_PLURAL, name)  # owned by the instance: a real cluster's GC removes it later
    assert cancelled is None or cancelled["status"]["state"] == "cancelled"


def test_point_4_deleting_the_running_task_starts_the_next_at_once_and_updates_the_instance(
        kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, slow_assembly(seconds=60))
    kube.create(r.INSTANCE_PLURAL, instance("del", "slow"))
    first = kube.first_task("del")
    kube.task_when(first, row_status("3", "executing"), what="the sleep stage to start")
    kube.create(r.TASK_PLURAL, task("del-queued", "del", "noop"))
    kube.create(r.TASK_PLURAL, task("del-next", "del", "noop"))
    kube.task_when("del-queued", lambda t: t.get("status", {}).get("state") == "pending", what="a queued task")
    kube.delete(r.TASK_PLURAL, "del-queued")  # a queued one: nothing to cancel
    kube.delete(r.TASK_PLURAL, first)  # the running one: its commands are killed
    done = kube.finished_task("del-next", timeout=5)
    assert done["status"]["state"] == "succeeded"

    def settled() -> dict[str, Any] | None:  # the refresh after del-next ended: LAST RUN and Reconciling
        si = kube.get(r.INSTANCE_PLURAL, "del") or {}
        last_run = (si.get("status") or {}).get("lastRun") or {}
        done_with_it = last_run == {"task": "del-next", "state": "succeeded"}
        return si if done_with_it and condition(si, "Reconciling").get("status") == "False" else None

    kube.wait("the instance's LAST RUN to be del-next, succeeded, and nothing reconciling", settled, timeout=5)
    assert not list(operator.local_root.rglob("sleeper-finished"))


def test_point_17_a_hand_made_task_gets_its_workflow_label(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, slow_assembly(seconds=0))
    kube.create(r.INSTANCE_PLURAL, instance("lbl", "slow"))
    kube.finished_task(kube.first_task("lbl"))
    kube.create(r.TASK_PLURAL, task("lbl-by-hand", "lbl", "noop"))
    done = kube.finished_task("lbl-by-hand")
    assert done["metadata"]["labels"][r.WORKFLOW_LABEL] == "noop"
