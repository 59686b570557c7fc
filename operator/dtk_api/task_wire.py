"""The Task status on the wire (TypedDicts, as the CRD declares it) and its conversion to memory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NotRequired, TypedDict, cast

from dtk_api.task_status import (
    CommandResult,
    ErrorType,
    Failure,
    Message,
    MessageType,
    Step,
    StepError,
    StepKind,
    StepStatus,
    TaskState,
    TaskStatus,
    progress,
)
from dtk_api.timefmt import format_time, parse_time


class RawResult(TypedDict):
    run: str
    type: str
    # Left out when there is none (killed, timed out): status is written by merge patch, where a
    # null would delete the key rather than store a null.
    returnCode: NotRequired[int]
    stdout: str
    stderr: str
    truncated: NotRequired[bool]


class RawError(TypedDict):
    type: str
    message: str


class RawStep(TypedDict):
    index: str
    kind: str
    name: str
    node: NotRequired[str]
    status: NotRequired[str]
    startedAt: NotRequired[str]
    endedAt: NotRequired[str]
    operation: NotRequired[str]
    nodes: NotRequired[list[str]]
    components: NotRequired[list[str]]
    action: NotRequired[str]
    results: NotRequired[list[RawResult]]
    errors: NotRequired[list[RawError]]


class RawMessage(TypedDict):
    type: str
    time: str
    text: str
    name: NotRequired[str]
    stacktrace: NotRequired[str]


class RawFailure(TypedDict, total=False):
    index: str
    node: str
    message: str
    returnCode: int
    stderr: str


class RawProgress(TypedDict):
    completed: int
    total: int


class RawTaskStatus(TypedDict, total=False):
    state: str
    message: str
    startedAt: str
    endedAt: str
    updatedAt: str
    progress: RawProgress
    steps: list[RawStep]
    messages: list[RawMessage]
    failure: RawFailure
    planHash: str
    shards: int  # rows below the stages are in this many TaskShards (dtk_api.sharding)
    observedGeneration: int
    conditions: list[dict[str, object]]


# ---- wire <-> memory -----------------------------------------------------------------------


def _opt_time(raw: Mapping[str, object], key: str) -> datetime | None:
    value = raw.get(key)
    return parse_time(value) if isinstance(value, str) and value else None


def _result_from_raw(raw: RawResult) -> CommandResult:
    return CommandResult(
        run=raw.get("run", ""),
        return_code=raw.get("returnCode"),
        stdout=raw.get("stdout", ""),
        stderr=raw.get("stderr", ""),
        truncated=bool(raw.get("truncated", False)),
        type=raw.get("type", "syscall"),
    )


def step_from_raw(raw: RawStep) -> Step:
    raw_map = cast(Mapping[str, object], raw)
    return Step(
        index=raw.get("index", ""),
        kind=cast(StepKind, raw.get("kind", "stage")),
        name=raw.get("name", ""),
        node=raw.get("node", ""),
        status=cast(StepStatus, raw.get("status", "")),
        started_at=_opt_time(raw_map, "startedAt"),
        ended_at=_opt_time(raw_map, "endedAt"),
        operation=raw.get("operation", ""),
        nodes=tuple(raw.get("nodes", ())),
        components=tuple(raw.get("components", ())),
        action=raw.get("action", ""),
        results=tuple(_result_from_raw(r) for r in raw.get("results", ())),
        errors=tuple(
            StepError(message=e.get("message", ""), type=cast(ErrorType, e.get("type", "user")))
            for e in raw.get("errors", ())
        ),
    )


def _result_to_raw(result: CommandResult) -> RawResult:
    raw = RawResult(run=result.run, type=result.type, stdout=result.stdout, stderr=result.stderr)
    if result.return_code is not None:
        raw["returnCode"] = result.return_code
    if result.truncated:
        raw["truncated"] = True
    return raw


def step_to_raw(step: Step) -> RawStep:
    """Empty fields are left out: the status stays small and `kubectl get -o yaml` readable."""
    optional: dict[str, object] = {
        "node": step.node, "status": step.status,
        "startedAt": format_time(step.started_at) if step.started_at else "",
        "endedAt": format_time(step.ended_at) if step.ended_at else "",
        "operation": step.operation, "nodes": list(step.nodes), "components": list(step.components),
        "action": step.action, "results": [_result_to_raw(r) for r in step.results],
        "errors": [RawError(type=e.type, message=e.message) for e in step.errors],
    }
    raw = {"index": step.index, "kind": step.kind, "name": step.name, **{k: v for k, v in optional.items() if v}}
    return cast(RawStep, raw)


def message_from_raw(raw: RawMessage) -> Message:
    return Message(
        type=cast(MessageType, raw.get("type", "notification")),
        time=parse_time(raw["time"]),
        text=raw.get("text", ""),
        name=raw.get("name", ""),
        stacktrace=raw.get("stacktrace", ""),
    )


def message_to_raw(message: Message) -> RawMessage:
    raw = RawMessage(type=message.type, time=format_time(message.time), text=message.text)
    if message.name:
        raw["name"] = message.name
    if message.stacktrace:
        raw["stacktrace"] = message.stacktrace
    return raw


def _failure_from_raw(raw: RawFailure) -> Failure:
    return Failure(
        index=raw.get("index", ""),
        node=raw.get("node", ""),
        message=raw.get("message", ""),
        return_code=raw.get("returnCode"),
        stderr=raw.get("stderr", ""),
    )


def _failure_to_raw(failure: Failure) -> RawFailure:
    raw = RawFailure(index=failure.index, node=failure.node, message=failure.message)
    if failure.return_code is not None:
        raw["returnCode"] = failure.return_code
    if failure.stderr:
        raw["stderr"] = failure.stderr
    return raw


def from_status(raw: Mapping[str, object]) -> TaskStatus:
    """Reads a Task's `.status`; unknown or missing fields fall back to a fresh Task."""
    status = cast(RawTaskStatus, raw)
    failure = status.get("failure")
    return TaskStatus(
        state=cast(TaskState, status.get("state") or "pending"),
        message=status.get("message", ""),
        started_at=_opt_time(raw, "startedAt"),
        ended_at=_opt_time(raw, "endedAt"),
        updated_at=_opt_time(raw, "updatedAt"),
        steps=tuple(step_from_raw(s) for s in status.get("steps", ())),
        messages=tuple(message_from_raw(m) for m in status.get("messages", ())),
        failure=_failure_from_raw(failure) if failure else None,
        plan_hash=status.get("planHash", ""),
    )


def to_status(task: TaskStatus, steps: list[RawStep] | None = None) -> RawTaskStatus:
    """The engine's part of `.status` (conditions and observedGeneration are added by the caller).
    `steps`: the rows already converted, when the caller keeps them between writes."""
    completed, total = progress(task.steps)
    raw = RawTaskStatus(
        state=task.state,
        message=task.message,
        progress=RawProgress(completed=completed, total=total),
        steps=steps if steps is not None else [step_to_raw(s) for s in task.steps],
        messages=[message_to_raw(m) for m in task.messages],
        planHash=task.plan_hash,
    )
    for key, value in (("startedAt", task.started_at), ("endedAt", task.ended_at),
                       ("updatedAt", task.updated_at)):
        if value is not None:
            raw[key] = format_time(value)  # type: ignore[literal-required]
    if task.failure is not None:
        raw["failure"] = _failure_to_raw(task.failure)
    return raw
