"""Pure state changes on a Task's status; the clock is always a parameter.

Roll-up (DTK's `new_parent_status`): a parent is cancelled if any child is cancelled, else failed
if any child failed, else succeeded once all children succeeded, else executing. A parent starts
with its first child and ends when it leaves `executing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

from dtk_api.task_status import (
    Failure,
    Message,
    MessageType,
    Step,
    StepError,
    StepStatus,
    TaskState,
    TaskStatus,
    parent_index,
)
from dtk_api.textcaps import MAX_LOG_CHARS, MAX_NAME_CHARS, MAX_STACKTRACE_CHARS, cut

MAX_MESSAGES = 200


def _rolled_up(statuses: set[StepStatus]) -> StepStatus:
    if "cancelled" in statuses:
        return "cancelled"
    if statuses & {"failed", "preconditions_failed"}:
        return "failed"
    if statuses == {"succeeded"}:
        return "succeeded"
    return "executing" if statuses - {""} else ""


Layout = tuple[dict[str, int], dict[str, tuple[int, ...]]]


@lru_cache(maxsize=32)
def _layout_of(indexes: tuple[str, ...]) -> Layout:
    """Positions and children of a tree shape; a Task's shape never changes, so it is computed once."""
    positions = {index: i for i, index in enumerate(indexes)}
    kids: dict[str, list[int]] = {}
    for i, index in enumerate(indexes):
        parent = parent_index(index)
        if parent is not None:
            kids.setdefault(parent, []).append(i)
    return positions, {k: tuple(v) for k, v in kids.items()}


_by_plan: dict[tuple[str, int], Layout] = {}


def _layout(task: TaskStatus) -> Layout:
    """The shape of a planned Task is known by its plan's digest: no walk over 10,000 rows for
    every change of one (a 5,000-member stage makes 20,000 changes)."""
    if not task.plan_hash:
        return _layout_of(tuple(s.index for s in task.steps))
    key = (task.plan_hash, len(task.steps))
    found = _by_plan.get(key)
    if found is None:
        if len(_by_plan) >= 32:
            _by_plan.clear()
        found = _by_plan[key] = _layout_of(tuple(s.index for s in task.steps))
    return found


def _recomputed(steps: list[Step], at: int, kids: tuple[int, ...], now: datetime) -> bool:
    """The parent at `at` from its children; True when it changed. A parent running again (a
    failed row re-run after a restart) has not ended: its end is its next one, when its last
    child ends."""
    status = _rolled_up({steps[i].status for i in kids})
    step = steps[at]
    started = step.started_at or min((when for i in kids if (when := steps[i].started_at) is not None),
                                     default=None)
    ended = None
    if status not in ("", "executing"):
        ended = step.ended_at or max((when for i in kids if (when := steps[i].ended_at) is not None), default=now)
    if (status, started, ended) == (step.status, step.started_at, step.ended_at):
        return False
    steps[at] = replace(step, status=status, started_at=started, ended_at=ended)
    return True


def _roll_up(steps: list[Step], layout: Layout, index: str, now: datetime) -> None:
    """Recomputes the ancestors of `index`, innermost first, until one does not change (then
    none above it does either)."""
    positions, children_at = layout
    parent = parent_index(index)
    while parent is not None and _recomputed(steps, positions[parent], children_at.get(parent, ()), now):
        parent = parent_index(parent)


def _update_step(task: TaskStatus, index: str, now: datetime, **changes: object) -> TaskStatus:
    steps = list(task.steps)
    layout = _layout(task)
    at = layout[0][index]
    steps[at] = replace(steps[at], **changes)  # type: ignore[arg-type]
    _roll_up(steps, layout, index, now)
    return replace(task, steps=tuple(steps), updated_at=now)


def start_step(task: TaskStatus, index: str, now: datetime) -> TaskStatus:
    return _update_step(task, index, now, status="executing", started_at=now, ended_at=None,
                        results=(), errors=())


def finish_step(
    task: TaskStatus,
    index: str,
    now: datetime,
    *,
    status: StepStatus,
    results: Sequence[object] = (),
    errors: Sequence[StepError] = (),
) -> TaskStatus:
    return _update_step(task, index, now, status=status, ended_at=now, results=tuple(results),
                        errors=tuple(errors))


def record_results(task: TaskStatus, index: str, now: datetime, results: Sequence[object]) -> TaskStatus:
    """Partial results of a running leaf: users see each command's outcome as it comes."""
    return _update_step(task, index, now, results=tuple(results))


def add_message(
    task: TaskStatus, now: datetime, kind: MessageType, text: str, *, name: str = "", stacktrace: str = ""
) -> TaskStatus:
    """vappio's log; the newest MAX_MESSAGES are kept so the status stays bounded."""
    # Both ends of a text: what happened where, and the quoted output's last line that says why.
    message = Message(type=kind, time=now, text=cut(text, MAX_LOG_CHARS, "both"), name=cut(name, MAX_NAME_CHARS),
                      stacktrace=cut(stacktrace, MAX_STACKTRACE_CHARS, "tail"))
    return replace(task, messages=(*task.messages, message)[-MAX_MESSAGES:], updated_at=now)


def begin(task: TaskStatus, now: datetime) -> TaskStatus:
    return replace(task, state="executing", message="", started_at=task.started_at or now, updated_at=now)


def wait_for(task: TaskStatus, now: datetime, message: str) -> TaskStatus:
    if task.state == "pending" and task.message == message:
        return task
    return replace(task, state="pending", message=message, updated_at=now)


def interrupt_running(task: TaskStatus, now: datetime, *, status: StepStatus, error: str) -> TaskStatus:
    """Every executing leaf becomes `status` (cancelled on cancel, failed on a Task timeout)."""
    running = [s.index for s in task.steps if s.status == "executing" and _is_leaf_index(task, s.index)]
    for index in running:
        errors = (StepError(message=error, type="user"),) if status == "failed" else ()
        task = finish_step(task, index, now, status=status, errors=errors)
    return task


def _is_leaf_index(task: TaskStatus, index: str) -> bool:
    return index not in _layout(task)[1]


def end(task: TaskStatus, now: datetime, state: TaskState, *, failure: Failure | None = None) -> TaskStatus:
    """Ends the Task; the top row takes the same outcome even when no stage had started."""
    steps = list(task.steps)
    if steps and steps[0].status not in ("succeeded", "failed", "cancelled"):
        steps[0] = replace(steps[0], status=state if state != "pending" else "",
                           started_at=steps[0].started_at or task.started_at or now, ended_at=now)
    return replace(task, state=state, ended_at=now, updated_at=now, steps=tuple(steps),
                   failure=task.failure or failure, message="")


def reset_interrupted(task: TaskStatus, now: datetime) -> TaskStatus:
    """After an operator restart: rows that were executing run again; succeeded rows never do.

    Every parent is then rolled up again from its children: a big Task's leaves live in its
    shards, written before the Task's own rows (SPEC 11), so an operator that died between the
    two left stage rows older than their leaves (a stage `executing` whose every leaf succeeded)."""
    steps = [
        replace(s, status="", started_at=None, ended_at=None, results=(), errors=())
        if s.status == "executing" and _is_leaf_index(task, s.index) else s
        for s in task.steps
    ]
    positions, children_at = _layout(task)
    for parent in sorted(children_at, key=_depth, reverse=True):  # innermost first
        _recomputed(steps, positions[parent], children_at[parent], now)
    return replace(task, steps=tuple(steps))


def _depth(index: str) -> int:
    return index.count(".") + 1 if index else 0
