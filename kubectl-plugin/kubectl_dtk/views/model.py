"""Pure view model of a Task: the snapshot table (rows + error legend) and the stream's events.

No terminal code: the renderers (table.py, stream.py, the live view) only draw what this returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dtk_api.task_status import CommandResult, Step, StepError, TaskStatus, leaves, stages

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


def as_utc(moment: datetime) -> datetime:
    """A naive time is taken as UTC (as dtk_api.timefmt does), not as the viewer's local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def table_time(moment: datetime | None) -> str:
    """DTK's `%H:%M:%S %d/%m/%y` in UTC; strftime drops the milliseconds (truncation, not rounding)."""
    return as_utc(moment).strftime("%H:%M:%S %d/%m/%y") if moment else ""


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


# ---- stream events -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskStart:
    name: str
    started_at: datetime | None

    @property
    def key(self) -> str:
        return "task_start"


@dataclass(frozen=True)
class StageStart:
    index: str
    name: str
    started_at: datetime | None
    operation: str = ""
    nodes: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"stage_start:{self.index}"


@dataclass(frozen=True)
class NodeResults:
    node: str
    results: tuple[CommandResult, ...]


@dataclass(frozen=True)
class NodeErrors:
    node: str
    is_group: bool
    errors: tuple[StepError, ...]


@dataclass(frozen=True)
class StageEnd:
    index: str
    name: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    results: tuple[NodeResults, ...] = ()
    errors: tuple[NodeErrors, ...] = ()

    @property
    def key(self) -> str:
        return f"stage_end:{self.index}"

    @property
    def duration_seconds(self) -> float | None:
        return _seconds(self.started_at, self.ended_at)


@dataclass(frozen=True)
class TaskEnd:
    name: str
    state: str
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def key(self) -> str:
        return "task_end"

    @property
    def duration_seconds(self) -> float | None:
        return _seconds(self.started_at, self.ended_at)


StreamEvent = TaskStart | StageStart | StageEnd | TaskEnd


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def stream_events(status: TaskStatus) -> list[StreamEvent]:
    """Everything one snapshot says, in DTK's cursor order: stages run one after the other, so
    the events stop at the first stage that has not started or has not ended."""
    top = status.steps[0] if status.steps and not status.steps[0].index else None
    if top is None or not (_has_started(top) or status.is_terminal):
        return []
    events: list[StreamEvent] = [TaskStart(name=top.name, started_at=top.started_at or status.started_at)]
    for stage in stages(status.steps):
        if not _has_started(stage):
            break
        subtree = [s for s in status.steps if s.index.startswith(stage.index + ".")]
        events.append(_stage_start(stage, subtree))
        if not stage.is_terminal:
            break
        events.append(_stage_end(stage, subtree))
    if status.is_terminal:
        events.append(TaskEnd(
            name=top.name, state=status.state, started_at=top.started_at or status.started_at,
            ended_at=top.ended_at or status.ended_at,
        ))
    return events


def _has_started(step: Step) -> bool:
    return bool(step.status) or step.started_at is not None


def _stage_start(stage: Step, subtree: Sequence[Step]) -> StageStart:
    # One ACTION line per row right under the stage: a node group counts once (as in DTK).
    actions = tuple(s.action for s in subtree if s.action and s.depth == 2) or (
        (stage.action,) if stage.action else ())
    return StageStart(
        index=stage.index, name=stage.name, started_at=stage.started_at, operation=stage.operation,
        nodes=stage.nodes, components=stage.components, actions=actions,
    )


def _stage_end(stage: Step, subtree: Sequence[Step]) -> StageEnd:
    """Action output per node; errors of the rows whose output is not shown (config and node rows,
    or an action that failed before running anything), so that no failure goes unexplained."""
    leaf_rows = list(leaves(subtree)) if subtree else [stage]
    with_output = [s for s in leaf_rows if s.kind == "action" and s.results]
    shown = {s.index for s in with_output}
    failing = [s for s in (stage, *subtree) if s.errors and s.index not in shown]
    return StageEnd(
        index=stage.index, name=stage.name, status=stage.status,
        started_at=stage.started_at, ended_at=stage.ended_at,
        results=tuple(NodeResults(node=s.node, results=s.results) for s in with_output),
        errors=tuple(NodeErrors(node=s.node, is_group=s.kind == GROUP_KIND, errors=s.errors)
                     for s in failing),
    )
