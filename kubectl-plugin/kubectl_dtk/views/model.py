"""Pure view model of a Task's snapshot table: rows, `--summarize` folding and the error legend.

No terminal code: the renderers (table.py, stream.py, the live view) only draw what this returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dtk_api.task_status import Step, StepError, TaskStatus
from kubectl_dtk.views.times import table_time

TASK_TABLE_HEADERS = ("TASK TYPE", "STATUS", "NODE", "DURATION", "STARTED AT", "ENDED AT")
GROUP_KIND = "configure_nodegroup"


@dataclass(frozen=True)
class TableRow:
    task_type: str
    status: str
    node: str
    duration: str
    started_at: str
    ended_at: str

    def cells(self) -> tuple[str, ...]:
        return (self.task_type, self.status, self.node, self.duration, self.started_at, self.ended_at)


@dataclass(frozen=True)
class ErrorEntry:
    """One legend line; `ref` is the row's index (the top row, which has none, by its name)."""

    ref: str
    type: str
    message: str

    @property
    def label(self) -> str:
        return f"[{self.type.upper()} ERROR]"


@dataclass(frozen=True)
class TaskTable:
    rows: tuple[TableRow, ...]
    errors: tuple[ErrorEntry, ...]


def table_duration(step: Step) -> str:
    seconds = step.duration_seconds
    return "" if seconds is None else f"{seconds:.1f}s"


def task_type_label(step: Step) -> str:
    return step.name if not step.index else f"{'  ' * step.depth}{step.index} {step.name}"


def task_table(status: TaskStatus, *, summarize: bool = False) -> TaskTable:
    rows: list[TableRow] = []
    errors: list[ErrorEntry] = []
    shown = _folded_rows(status.steps) if summarize else _plain_rows(status.steps)
    for step, status_text, step_errors in shown:
        rows.append(TableRow(
            task_type=task_type_label(step), status=status_text, node=step.node,
            duration=table_duration(step), started_at=table_time(step.started_at),
            ended_at=table_time(step.ended_at),
        ))
        ref = step.index or step.name
        errors += (ErrorEntry(ref=ref, type=e.type, message=e.message) for e in step_errors)
    return TaskTable(rows=tuple(rows), errors=tuple(errors))


ShownRow = tuple[Step, str, tuple[StepError, ...]]


def _plain_rows(steps: Sequence[Step]) -> Iterator[ShownRow]:
    return ((step, step.status, step.errors) for step in steps)


def _folded_rows(steps: Sequence[Step]) -> Iterator[ShownRow]:
    """`-s`: a node group's members disappear into the group row (status counts, their errors)."""
    position = 0
    while position < len(steps):
        step = steps[position]
        if step.kind != GROUP_KIND:
            yield step, step.status, step.errors
            position += 1
            continue
        end = _subtree_end(steps, position)
        subtree = steps[position + 1:end]
        members = [s for s in subtree if s.depth == step.depth + 1]
        errors = (*step.errors, *(e for s in subtree for e in s.errors))
        yield step, group_status(step, members), tuple(dict.fromkeys(errors))
        position = end


def _subtree_end(steps: Sequence[Step], position: int) -> int:
    """Rows are in display order, so a row's descendants are the contiguous run after it."""
    prefix = steps[position].index + "."
    end = position + 1
    while end < len(steps) and steps[end].index.startswith(prefix):
        end += 1
    return end


def group_status(group: Step, members: Sequence[Step]) -> str:
    """DTK's node-group summary: `succeeded(2)`, `executing(1),succeeded(1)`; cancelled stays as is.

    Counts are listed in alphabetical order (DTK used first-seen order) so that a line does not
    reshuffle while a large group progresses; members not started yet are not counted (as DTK).
    """
    if group.status == "succeeded":
        return f"succeeded({len(members)})"
    if group.status not in ("executing", "failed"):
        return group.status
    counts = Counter(member.status for member in members if member.status)
    return ",".join(f"{name}({count})" for name, count in sorted(counts.items())) or group.status
