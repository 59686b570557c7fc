"""Pure view model of a Task's stream (`task-status -m stream`): the events a status allows.

A stage's start event exists once it started, its end once it is terminal; the renderers in
stream.py only draw what this returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dtk_api.task_status import CommandResult, Failure, Step, StepError, TaskStatus, leaves, stages
from kubectl_dtk.views.model import GROUP_KIND


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
    """`failure` is the Task's own: why it failed, also when no stage ran (bad input) or when the
    rows that said it were dropped (a status the API server refused, SPEC 4)."""

    name: str
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    failure: Failure | None = None

    @property
    def key(self) -> str:
        return "task_end"

    @property
    def duration_seconds(self) -> float | None:
        return _seconds(self.started_at, self.ended_at)


StreamEvent = TaskStart | StageStart | StageEnd | TaskEnd


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def stream_events(status: TaskStatus, *, title: str = "") -> list[StreamEvent]:
    """Everything one snapshot says, in DTK's cursor order: stages run one after the other, so
    the events stop at the first stage that has not started or has not ended. `title` names a
    Task that has no rows (it failed before its tree was made): it still opens and closes."""
    top = status.steps[0] if status.steps and not status.steps[0].index else None
    if top is None:
        return _rowless(status, title) if status.is_terminal else []
    if not (_has_started(top) or status.is_terminal):
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
            ended_at=top.ended_at or status.ended_at, failure=status.failure,
        ))
    return events


def _rowless(status: TaskStatus, title: str) -> list[StreamEvent]:
    return [TaskStart(name=title, started_at=status.started_at),
            TaskEnd(name=title, state=status.state, started_at=status.started_at, ended_at=status.ended_at,
                    failure=status.failure)]


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
    """Action output per node, then the errors of every row that has some: output alone does not
    say why a killed command (a step timeout, no return code) or a row that ran nothing failed."""
    leaf_rows = list(leaves(subtree)) if subtree else [stage]
    with_output = [s for s in leaf_rows if s.kind == "action" and s.results]
    failing = [s for s in (stage, *subtree) if s.errors]
    return StageEnd(
        index=stage.index, name=stage.name, status=stage.status,
        started_at=stage.started_at, ended_at=stage.ended_at,
        results=tuple(NodeResults(node=s.node, results=s.results) for s in with_output),
        errors=tuple(NodeErrors(node=s.node, is_group=s.kind == GROUP_KIND, errors=s.errors)
                     for s in failing),
    )
