"""A ServiceInstance's phase, LAST RUN and conditions, derived from facts (pure; SPEC 3 and 6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from dtk_api import conditions as c
from dtk_api.resources import CREATE_WORKFLOW, POWER_ON_WORKFLOW
from dtk_api.textcaps import MAX_MESSAGE_CHARS, cut

CONVERGE_WORKFLOWS = frozenset({CREATE_WORKFLOW, POWER_ON_WORKFLOW})


@dataclass(frozen=True)
class TaskSummary:
    """One Task of the instance, in creation order."""

    name: str
    workflow: str
    state: str
    message: str = ""
    started: bool = False


@dataclass(frozen=True)
class Problem:
    reason: str
    message: str

    def __post_init__(self) -> None:
        # Written as the instance's status.message as it is: it may list every fault of a big Assembly.
        object.__setattr__(self, "message", cut(self.message, MAX_MESSAGE_CHARS, "both"))


@dataclass(frozen=True)
class InstanceFacts:
    generation: int
    staged: bool
    power: str
    tasks: Sequence[TaskSummary]
    problem: Problem | None = None


def phase(facts: InstanceFacts) -> str:
    """DTK's STATUS: pending until something ran, stopped when powered off, else running."""
    if facts.power == "stopped":
        return "stopped"
    if facts.staged and not any(t.started for t in facts.tasks):
        return "pending"
    return "running" if any(t.started for t in facts.tasks) else "pending"


def last_run(facts: InstanceFacts) -> dict[str, str] | None:
    """DTK's LAST RUN: the latest Task that has started; blank before any did."""
    started = [t for t in facts.tasks if t.started]
    return {"task": started[-1].name, "state": started[-1].state} if started else None


def _converge(facts: InstanceFacts) -> TaskSummary | None:
    found = [t for t in facts.tasks if t.workflow in CONVERGE_WORKFLOWS]
    return found[-1] if found else None


_ENDED_REASONS = {"succeeded": c.REASON_TASK_SUCCEEDED, "failed": c.REASON_TASK_FAILED,
                  "cancelled": c.REASON_TASK_CANCELLED}


def _reconciling(facts: InstanceFacts) -> tuple[bool, str, str]:
    """True while a Task is pending or executing; False says how the latest Task ended, or why
    none has run (kstatus reads only the status; the reason is for the people reading it)."""
    active = [t for t in facts.tasks if t.state in ("pending", "executing")]
    if active:
        task = active[0]
        reason = c.REASON_TASK_RUNNING if task.state == "executing" else c.REASON_TASK_PENDING
        return True, reason, f"task {task.name} is {task.state}" + (f" ({task.message})" if task.message else "")
    if facts.tasks:
        last = facts.tasks[-1]
        return False, _ENDED_REASONS.get(last.state, c.REASON_TASK_SUCCEEDED), (
            f"no task is pending or executing; the latest, {last.name}, {last.state}")
    if facts.problem is not None:
        return False, facts.problem.reason, f"no task runs until this is fixed: {facts.problem.message}"
    if facts.staged:
        return False, c.REASON_STAGED, "staged: no task runs until spec.staged is false"
    return False, c.REASON_NOT_DEPLOYED, "no task has been created yet"


def _stalled(facts: InstanceFacts) -> tuple[bool, str, str]:
    if facts.problem is not None:
        return True, facts.problem.reason, facts.problem.message
    task = _converge(facts)
    if task is not None and task.state in ("failed", "cancelled"):
        reason = c.REASON_TASK_FAILED if task.state == "failed" else c.REASON_TASK_CANCELLED
        hint = "fix the cause and converge again (a new spec generation or `kubectl dtk converge`)"
        return True, reason, f"task {task.name} {task.state}: {task.message or 'see its status'}; {hint}"
    return False, c.REASON_VALID, "spec is valid and no task has failed"


def _ready(facts: InstanceFacts) -> tuple[bool, str, str]:
    task = _converge(facts)
    if facts.problem is not None:
        return False, facts.problem.reason, facts.problem.message
    if facts.power == "stopped":
        return False, c.REASON_STOPPED, "nodes are powered off (spec.power: stopped)"
    if facts.staged and task is None:
        return False, c.REASON_STAGED, "staged: set spec.staged to false to deploy"
    if task is None:
        return False, c.REASON_NOT_DEPLOYED, "no converge task yet"
    if task.state == "succeeded":
        return True, c.REASON_TASK_SUCCEEDED, f"nodes are up and task {task.name} succeeded"
    reason = {"failed": c.REASON_TASK_FAILED, "cancelled": c.REASON_TASK_CANCELLED,
              "executing": c.REASON_TASK_RUNNING}.get(task.state, c.REASON_TASK_PENDING)
    return False, reason, f"task {task.name} is {task.state}"


def instance_conditions(
    previous: Sequence[Mapping[str, object]], facts: InstanceFacts, now: datetime
) -> list[c.RawCondition]:
    out: Sequence[Mapping[str, object]] = previous
    for type_, (flag, reason, message) in (
        (c.READY, _ready(facts)), (c.RECONCILING, _reconciling(facts)), (c.STALLED, _stalled(facts)),
    ):
        out = c.set_condition(out, type_=type_, status="True" if flag else "False", reason=reason,
                              message=message, now=now, generation=facts.generation)
    return list(out)  # type: ignore[arg-type]
