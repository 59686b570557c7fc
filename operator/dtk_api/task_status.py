"""The Task step tree in memory (frozen dataclasses) and pure queries on it; wire shapes are in task_wire.

The tree is kept flat, in display order; a row's place in the tree is its dotted `index`
("" for the top row, "3.1.2" for the second member of the first group of stage 3).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

StepKind = Literal[
    "task", "stage", "create_node", "power_on_node", "configure_node", "configure_nodegroup", "action"
]
StepStatus = Literal["", "executing", "succeeded", "failed", "cancelled", "preconditions_failed"]
TaskState = Literal["pending", "executing", "succeeded", "failed", "cancelled"]
ErrorType = Literal["user", "server", "test"]
MessageType = Literal["notification", "debug", "error", "result"]

TERMINAL_TASK_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
TERMINAL_STEP_STATUSES: frozenset[str] = frozenset(
    {"succeeded", "failed", "cancelled", "preconditions_failed"}
)


@dataclass(frozen=True)
class CommandResult:
    run: str
    return_code: int | None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    type: str = "syscall"


@dataclass(frozen=True)
class StepError:
    message: str
    type: ErrorType = "user"


@dataclass(frozen=True)
class Step:
    index: str
    kind: StepKind
    name: str
    node: str = ""
    status: StepStatus = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    operation: str = ""
    nodes: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    action: str = ""
    results: tuple[CommandResult, ...] = ()
    errors: tuple[StepError, ...] = ()

    @property
    def depth(self) -> int:
        """0 for the top row, 1 for stages, 2 for their children, and so on."""
        return 0 if not self.index else self.index.count(".") + 1

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STEP_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class Message:
    type: MessageType
    time: datetime
    text: str
    name: str = ""
    stacktrace: str = ""


@dataclass(frozen=True)
class Failure:
    index: str
    node: str
    message: str
    return_code: int | None = None
    stderr: str = ""


@dataclass(frozen=True)
class TaskStatus:
    state: TaskState = "pending"
    message: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None
    steps: tuple[Step, ...] = ()
    messages: tuple[Message, ...] = ()
    failure: Failure | None = None
    plan_hash: str = ""

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_TASK_STATES


# ---- queries -------------------------------------------------------------------------------


def parent_index(index: str) -> str | None:
    """The parent row's index; None for the top row."""
    if not index:
        return None
    head, _, _ = index.rpartition(".")
    return head


def is_leaf(steps: Sequence[Step], position: int) -> bool:
    """A row is a leaf when the next row is not its child (rows are in display order)."""
    nxt = position + 1
    return nxt >= len(steps) or parent_index(steps[nxt].index) != steps[position].index


def leaves(steps: Sequence[Step]) -> Iterator[Step]:
    return (step for pos, step in enumerate(steps) if step.index and is_leaf(steps, pos))


def children(steps: Sequence[Step], index: str) -> list[Step]:
    return [step for step in steps if step.index and parent_index(step.index) == index]


def progress(steps: Sequence[Step]) -> tuple[int, int]:
    """(completed, total) over leaf rows: vappio's `Num: c/n`."""
    leaf_rows = list(leaves(steps))
    done = sum(1 for step in leaf_rows if step.status == "succeeded")
    return done, len(leaf_rows)


def stages(steps: Sequence[Step]) -> list[Step]:
    return [step for step in steps if step.depth == 1]
