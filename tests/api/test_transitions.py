"""Roll-up, timing and resume rules on the step tree (DTK's `new_parent_status`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dtk_api import transitions as t
from dtk_api.task_status import Step, StepError, TaskStatus, progress
from dtk_api.task_wire import from_status, to_status

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tree() -> TaskStatus:
    rows = [("", "task"), ("1", "stage"), ("1.1", "configure_nodegroup"), ("1.1.1", "configure_node"),
            ("1.1.2", "configure_node"), ("1.2", "configure_node"), ("2", "stage"), ("2.1", "action")]
    return TaskStatus(state="executing", steps=tuple(Step(index=i, kind=k, name=k) for i, k in rows))  # type: ignore[arg-type]


def status_of(task: TaskStatus) -> dict[str, str]:
    return {s.index: s.status for s in task.steps}


def test_a_parent_starts_with_its_first_child() -> None:
    task = t.start_step(tree(), "1.1.2", at(1))
    rows = {s.index: s for s in task.steps}
    assert [rows[i].status for i in ("", "1", "1.1", "1.1.2")] == ["executing"] * 4
    assert rows["1"].started_at == at(1) and rows["1.2"].status == "" and rows["2"].status == ""


def test_all_children_succeeded_makes_the_parent_succeed_and_end() -> None:
    task = tree()
    for index, second in (("1.1.1", 1), ("1.1.2", 2), ("1.2", 3)):
        task = t.start_step(task, index, at(0))
        task = t.finish_step(task, index, at(second), status="succeeded")
    rows = {s.index: s for s in task.steps}
    assert rows["1.1"].status == "succeeded" and rows["1.1"].ended_at == at(2)
    assert rows["1"].status == "succeeded" and rows["1"].duration_seconds == 3.0
    assert rows[""].status == "executing"  # stage 2 has not run
    assert progress(task.steps) == (3, 4)


def test_failed_beats_executing_and_cancelled_beats_failed() -> None:
    task = t.start_step(t.start_step(tree(), "1.1.1", at(0)), "1.2", at(0))
    task = t.finish_step(task, "1.1.1", at(1), status="failed", errors=(StepError("boom"),))
    assert status_of(task)["1.1"] == "failed" and status_of(task)["1"] == "failed"
    task = t.interrupt_running(task, at(2), status="cancelled", error="cancelled")
    assert status_of(task)["1.2"] == "cancelled" and status_of(task)["1"] == "cancelled"
    assert status_of(task)["2"] == ""


def test_end_marks_the_top_row_even_when_nothing_started() -> None:
    task = t.end(tree(), at(5), "failed")
    assert task.state == "failed" and task.steps[0].status == "failed" and task.ended_at == at(5)


def test_resume_reruns_only_the_rows_that_were_executing() -> None:
    task = t.start_step(t.start_step(tree(), "1.1.1", at(0)), "1.1.2", at(0))
    task = t.finish_step(task, "1.1.1", at(1), status="succeeded")
    resumed = t.reset_interrupted(from_status(dict(to_status(task))), at(9))
    assert status_of(resumed)["1.1.1"] == "succeeded" and status_of(resumed)["1.1.2"] == ""
    assert status_of(resumed)["1.1"] == "executing"  # parents are recomputed as their children run


def test_resume_rolls_up_parents_older_than_their_children() -> None:
    """A big Task's leaves were stored (in its shards) but its parent rows were not: on resume the
    parents say what their leaves do, so a finished stage is not run, nor taken for unfinished."""
    task = t.start_step(t.start_step(tree(), "1.1.1", at(0)), "1.2", at(0))
    stale_parents = {s.index: s for s in task.steps}
    for index, second in (("1.1.1", 1), ("1.2", 3)):
        task = t.finish_step(task, index, at(second), status="succeeded")
    task = t.finish_step(t.start_step(task, "1.1.2", at(0)), "1.1.2", at(2), status="succeeded")
    stored = replace(task, steps=tuple(stale_parents[s.index] if s.index in ("", "1", "1.1") else s
                                         for s in task.steps))
    assert status_of(stored)["1"] == "executing" and stored.steps[1].ended_at is None
    resumed = t.reset_interrupted(stored, at(9))
    rows = {s.index: s for s in resumed.steps}
    assert [rows[i].status for i in ("1.1", "1", "", "2")] == ["succeeded", "succeeded", "executing", ""]
    assert rows["1.1"].ended_at == at(2) and rows["1"].ended_at == at(3)  # when the last child ended
    assert rows["1"].started_at == at(0)


def test_a_failed_row_run_again_after_a_restart_gives_its_parents_their_new_end() -> None:
    task = t.start_step(tree(), "1.2", at(0))
    task = t.finish_step(task, "1.2", at(1), status="failed", errors=(StepError("boom"),))
    assert {s.index: s for s in task.steps}["1"].ended_at == at(1)
    resumed = t.reset_interrupted(from_status(dict(to_status(task))), at(5))
    running = t.start_step(resumed, "1.2", at(6))
    assert {s.index: s for s in running.steps}["1"].status == "executing"
    assert {s.index: s for s in running.steps}["1"].ended_at is None
    for index in ("1.1.1", "1.1.2"):
        running = t.finish_step(t.start_step(running, index, at(6)), index, at(7), status="succeeded")
    done = {s.index: s for s in t.finish_step(running, "1.2", at(8), status="succeeded").steps}
    assert done["1"].status == "succeeded" and done["1"].ended_at == at(8)


def test_wire_round_trip_keeps_every_field() -> None:
    task = t.start_step(tree(), "2.1", at(0))
    task = t.finish_step(task, "2.1", at(1.25), status="failed", errors=(StepError("x", "server"),))
    task = t.add_message(task, at(2), "error", "it broke", stacktrace="Traceback...")
    again = from_status(dict(to_status(task)))
    assert again.steps == task.steps and again.messages == task.messages and again.state == task.state
    assert to_status(task)["steps"][-1]["endedAt"] == "2026-11-22T10:00:01.250Z"
