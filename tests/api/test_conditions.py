"""Conditions as Flux's kstatus and `kubectl wait` read them (SPEC section 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dtk_api import conditions as c
from dtk_api.instance_status import InstanceFacts, Problem, TaskSummary, instance_conditions, last_run, phase

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def by_type(conditions: list[c.RawCondition]) -> dict[str, c.RawCondition]:
    return {x["type"]: x for x in conditions}


def facts(*tasks: TaskSummary, staged: bool = False, problem: Problem | None = None) -> InstanceFacts:
    return InstanceFacts(generation=3, staged=staged, power="running", tasks=tasks, problem=problem)


def test_last_transition_time_moves_only_when_the_status_flips() -> None:
    first = c.set_condition([], type_="Ready", status="False", reason="A", message="a", now=T0, generation=1)
    same = c.set_condition(first, type_="Ready", status="False", reason="B", message="b",
                           now=T0 + timedelta(minutes=1), generation=2)
    flipped = c.set_condition(same, type_="Ready", status="True", reason="C", message="c",
                              now=T0 + timedelta(minutes=2), generation=2)
    assert same[0]["lastTransitionTime"] == "2026-11-22T10:00:00.000Z" and same[0]["reason"] == "B"
    assert flipped[0]["lastTransitionTime"] == "2026-11-22T10:02:00.000Z"


def test_task_conditions_complete_whatever_the_outcome() -> None:
    for state, succeeded in (("succeeded", "True"), ("failed", "False"), ("cancelled", "False")):
        got = by_type(c.task_conditions([], state=state, message="", now=T0, generation=1))
        assert got["Completed"]["status"] == "True" and got["Succeeded"]["status"] == succeeded
    running = by_type(c.task_conditions([], state="executing", message="", now=T0, generation=1))
    assert running["Completed"]["status"] == "False" and running["Succeeded"]["status"] == "Unknown"


def test_instance_ready_reconciling_stalled() -> None:
    ok = TaskSummary("si-1", "create", "succeeded", started=True)
    running = TaskSummary("si-2", "create", "executing", started=True)
    failed = TaskSummary("si-2", "create", "failed", "step 6.1 on master: boom", started=True)
    ready = by_type(instance_conditions([], facts(ok), T0))
    assert (ready["Ready"]["status"], ready["Reconciling"]["status"], ready["Stalled"]["status"]) == (
        "True", "False", "False")
    busy = by_type(instance_conditions([], facts(ok, running), T0))
    assert busy["Ready"]["status"] == "False" and busy["Reconciling"]["status"] == "True"
    broken = by_type(instance_conditions([], facts(ok, failed), T0))
    assert broken["Stalled"]["status"] == "True" and broken["Stalled"]["reason"] == "TaskFailed"
    assert "step 6.1 on master: boom" in broken["Stalled"]["message"]
    assert all(x["observedGeneration"] == 3 for x in broken.values())


def test_an_exec_workflow_failure_does_not_unready_the_instance() -> None:
    got = by_type(instance_conditions([], facts(TaskSummary("a", "create", "succeeded", started=True),
                                                TaskSummary("b", "load", "failed", started=True)), T0))
    assert got["Ready"]["status"] == "True" and got["Stalled"]["status"] == "False"


def test_phase_and_last_run() -> None:
    assert phase(facts(staged=True)) == "pending" and last_run(facts(staged=True)) is None
    waiting = TaskSummary("si-1", "create", "pending")
    assert phase(facts(waiting)) == "pending" and last_run(facts(waiting)) is None
    started = TaskSummary("si-1", "create", "executing", started=True)
    assert phase(facts(started)) == "running" and last_run(facts(started)) == {"task": "si-1", "state": "executing"}


def test_an_invalid_spec_stalls_with_its_reason() -> None:
    got = by_type(instance_conditions([], facts(problem=Problem("AssemblyNotFound", "assembly 'x' not found")), T0))
    assert got["Stalled"]["reason"] == "AssemblyNotFound" and got["Ready"]["status"] == "False"


def test_point_17_reconciling_false_says_how_the_latest_task_ended_or_why_none_ran() -> None:
    def reconciling(got: InstanceFacts) -> tuple[str, str]:
        found = by_type(instance_conditions([], got, T0))["Reconciling"]
        assert found["status"] == "False"
        return found["reason"], found["message"]

    ok = TaskSummary("si-1", "create", "succeeded", started=True)
    assert reconciling(facts(ok))[0] == "TaskSucceeded"
    cancelled = TaskSummary("si-2", "load", "cancelled", started=True)
    assert reconciling(facts(ok, cancelled)) == (
        "TaskCancelled", "no task is pending or executing; the latest, si-2, cancelled")
    assert reconciling(facts(ok, TaskSummary("si-3", "load", "failed", started=True)))[0] == "TaskFailed"
    assert reconciling(facts()) == ("NotDeployed", "no task has been created yet")
    assert reconciling(facts(staged=True))[0] == "Staged"
    refused = reconciling(facts(problem=Problem("LocalTargetDisabled", "start the operator with it")))
    assert refused == ("LocalTargetDisabled", "no task runs until this is fixed: start the operator with it")
