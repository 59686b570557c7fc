"""One Task's status while it runs: every change goes through dtk_api.transitions and is
handed to the coalescing writer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dtk_api import transitions as t
from dtk_api.bounds import bounded
from dtk_api.conditions import task_conditions
from dtk_api.plan import Plan
from dtk_api.sharding import ShardRows, split
from dtk_api.task_status import Failure, MessageType, Step, StepError, StepStatus, TaskStatus
from dtk_api.task_wire import RawStep, step_to_raw, to_status
from dtk_operator.engine.writer import StatusWriter
from dtk_operator.targets.base import NodeFacts

MAX_REFUSAL_CHARS = 1000  # a refusal can list every bad field: the failure block stays small
_TERMINAL_KEYS = ("state", "startedAt", "endedAt", "updatedAt", "message", "failure")


def refusal_message(refusal: str) -> str:
    """Why a Task failed when the API server would not store its status (its words, bounded)."""
    return f"the API server refused the Task's status: {refusal}"[:MAX_REFUSAL_CHARS]


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunState:
    def __init__(self, *, status: TaskStatus, writer: StatusWriter, generation: int,
                 conditions: list[Mapping[str, object]], clock: Callable[[], datetime] = utcnow,
                 task_name: str = "") -> None:
        self.status = status
        self.task_name = task_name
        self.shard_rows: list[ShardRows] = []  # as of the last snapshot (dtk_api.sharding)
        # index -> (the row, its wire form): a write converts only the rows that changed since
        # the last one (rows are immutable; a changed row is a new object).
        self._wire_rows: dict[str, tuple[Step, RawStep]] = {}
        self.writer = writer
        self.generation = generation
        self.clock = clock
        self.plan: Plan | None = None
        self.nodes: dict[str, NodeFacts] = {}
        self._conditions = conditions

    def apply(self, change: Callable[[TaskStatus, datetime], TaskStatus], *, write: bool = True) -> None:
        """`write=False` keeps a change in memory until the next state change writes it: a command
        ending inside a running row is not a state change of the row (SPEC 4: writes per change)."""
        self.status = change(self.status, self.clock())
        if write:
            self.writer.mark(self.snapshot)

    def snapshot(self) -> dict[str, Any]:
        """The Task's own status; a big Task's rows below its stages go to `shard_rows`."""
        raw: dict[str, Any] = dict(to_status(self.status, self._rows_on_the_wire()))
        raw["steps"], self.shard_rows = split(self.task_name, raw["steps"])
        if self.shard_rows:
            raw["shards"] = len(self.shard_rows)
        raw = bounded(raw)
        summary = self.status.failure.message if self.status.failure else self.status.message
        self._conditions = list(task_conditions(self._conditions, state=self.status.state, message=summary,
                                                now=self.clock(), generation=self.generation))
        raw["conditions"] = self._conditions
        raw["observedGeneration"] = self.generation
        return raw

    def _rows_on_the_wire(self) -> list[RawStep]:
        rows = []
        for step in self.status.steps:
            known = self._wire_rows.get(step.index)
            if known is None or known[0] is not step:
                known = self._wire_rows[step.index] = (step, step_to_raw(step))
            rows.append(known[1])
        return rows

    def refused_status(self, refusal: str) -> dict[str, Any]:
        """What is written when the API server refuses the Task's status (SPEC 4): its outcome,
        failed, without the tree and log that could not be stored."""
        note = refusal_message(refusal)
        failure = self.status.failure
        failure = replace(failure, message=f"{failure.message} ({note})") if failure else Failure(
            index="", node="", message=note)
        failure = replace(failure, message=failure.message[:MAX_REFUSAL_CHARS])
        ended = t.end(replace(self.status, steps=(), messages=(), failure=failure), self.clock(), "failed")
        raw: dict[str, Any] = {key: value for key, value in to_status(ended).items() if key in _TERMINAL_KEYS}
        raw["conditions"] = list(task_conditions(self._conditions, state="failed", message=failure.message,
                                                 now=self.clock(), generation=self.generation))
        raw["observedGeneration"] = self.generation
        return raw

    def log(self, kind: MessageType, text: str, *, stacktrace: str = "", write: bool = True) -> None:
        self.apply(lambda s, now: t.add_message(s, now, kind, text, stacktrace=stacktrace), write=write)

    def start(self, index: str) -> None:
        self.apply(lambda s, now: t.start_step(s, index, now))

    def succeed(self, index: str, results: tuple[object, ...] = ()) -> None:
        self.apply(lambda s, now: t.finish_step(s, index, now, status="succeeded", results=results))

    def fail(self, index: str, *, node: str, message: str, results: tuple[object, ...] = (),
             return_code: int | None = None, stderr: str = "", kind: str = "user", stacktrace: str = "") -> None:
        """Fails a leaf; the first failure of the Task becomes its `failure` block."""
        error = StepError(message=message, type=kind)  # type: ignore[arg-type]
        failure = Failure(index=index, node=node, message=message, return_code=return_code, stderr=stderr[-1024:])

        def change(s: TaskStatus, now: datetime) -> TaskStatus:
            s = t.finish_step(s, index, now, status="failed", results=results, errors=(error,))
            s = t.add_message(s, now, "error", f"step {index} on {node or 'task'} failed: {message}",
                              stacktrace=stacktrace)
            return s if s.failure else replace(s, failure=failure)

        self.apply(change)

    def finish(self, state: str, *, failure: Failure | None = None) -> None:
        self.apply(lambda s, now: t.end(s, now, state, failure=failure))  # type: ignore[arg-type]

    def interrupt(self, status: StepStatus, error: str) -> None:
        self.apply(lambda s, now: t.interrupt_running(s, now, status=status, error=error))
