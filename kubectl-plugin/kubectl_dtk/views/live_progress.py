"""Pure view model of `task-status --wait` off a terminal: append-only progress lines.

A CI log cannot be redrawn, so instead of the table this says what changed, one line a change
worth reading (the Task, its stages, and any row that failed; not each of 200 group members),
and a heartbeat when nothing did. Time is a parameter: the lines are a function of the statuses.
"""

from __future__ import annotations

from datetime import datetime

from dtk_api.task_status import Step, TaskStatus, progress, stages
from kubectl_dtk.views.model import table_duration
from kubectl_dtk.views.times import as_utc

# Rows deeper than stages are worth a line only when they went wrong.
_FAILED = frozenset({"failed", "preconditions_failed"})


def stamp(moment: datetime) -> str:
    return f"[{as_utc(moment).strftime('%H:%M:%S')}]"


def row_label(step: Step) -> str:
    """`assembly_converge`, `3 bigtop hiera`, `3.1.2 configure_node (slaves:2)`."""
    label = f"{step.index} {step.name}" if step.index else step.name
    return f"{label} ({step.node})" if step.node else label


def where_it_is(status: TaskStatus) -> str:
    """`executing, 7/24 steps done, at 5 namenode`; a waiting Task says what it waits for."""
    if status.state == "pending":
        return f"pending ({status.message})" if status.message else "pending"
    done, total = progress(status.steps)
    running = [s for s in stages(status.steps) if s.status == "executing"]
    at = f", at {running[-1].index} {running[-1].name}" if running else ""
    return f"{status.state}, {done}/{total} steps done{at}"


class ProgressLines:
    """Feed it every status the watch delivers; print what it returns."""

    def __init__(self, task_name: str) -> None:
        self.task_name = task_name
        self._seen: dict[str, str] = {}
        self._last: TaskStatus | None = None

    def feed(self, status: TaskStatus, now: datetime) -> list[str]:
        previous, self._last = self._last, status
        changed = [step for step in status.steps if self._changed(step)]
        self._seen = {step.index: step.status for step in status.steps}
        if previous is None:  # joining a run midway: one line on where it is, not a replay of its past
            return [] if status.is_terminal else [f"{stamp(now)} task {self.task_name}: {where_it_is(status)}"]
        if not status.steps and status.state != previous.state:  # e.g. refused input: no rows to tell it
            return [f"{stamp(now)} task {self.task_name}: {status.state}"]
        top = [step for step in changed if not step.index]
        rest = [step for step in changed if step.index and _worth_a_line(step)]
        # The Task's start comes before its stages' lines and its end after them.
        ordered = [s for s in top if not s.is_terminal] + rest + [s for s in top if s.is_terminal]
        return [_change_line(step, now) for step in ordered]

    def heartbeat(self, now: datetime) -> str:
        where = where_it_is(self._last) if self._last else "waiting for the API server"
        return f"{stamp(now)} task {self.task_name}: still {where}"

    def _changed(self, step: Step) -> bool:
        return bool(step.status) and self._seen.get(step.index) != step.status


def _worth_a_line(step: Step) -> bool:
    return step.depth == 1 or step.status in _FAILED


def _change_line(step: Step, now: datetime) -> str:
    when = (step.ended_at if step.is_terminal else step.started_at) or now
    took = table_duration(step) if step.is_terminal else ""
    return f"{stamp(when)} {row_label(step)}: {step.status}" + (f" ({took})" if took else "")

