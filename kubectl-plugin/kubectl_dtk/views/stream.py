"""`task-status -m stream`: DTK's stage-by-stage text (seed 000), or the same events as JSON lines.

`StreamPrinter` follows a Task across the statuses a watch delivers and returns only what has
not been printed yet, so the first status replays the finished stages from stage 1 (as DTK's
cursor did) and later ones add each stage's start part when it starts and end part when it ends.
"""

from __future__ import annotations

import json
from datetime import datetime

from dtk_api.task_status import CommandResult, TaskStatus
from dtk_api.timefmt import format_time
from kubectl_dtk.views.events import (
    NodeErrors,
    NodeResults,
    StageEnd,
    StageStart,
    StreamEvent,
    TaskEnd,
    TaskStart,
    stream_events,
)
from kubectl_dtk.views.model import as_utc
from kubectl_dtk.views.printable import printable

JSONL_VERSION = 1
BRACKET = "=" * 25
STAGE_OPENING = "=" * 60
STAGE_CLOSING = "-" * 60


class StreamPrinter:
    """Feed it every status seen; print what it returns. Stale or repeated statuses return ""."""

    def __init__(self, *, jsonl: bool = False) -> None:
        self._render = render_event_json if jsonl else render_event
        self._printed: set[str] = set()

    @property
    def finished(self) -> bool:
        """True once the end of the Task has been printed: a follower can stop watching."""
        return "task_end" in self._printed

    def feed(self, status: TaskStatus) -> str:
        fresh = [event for event in stream_events(status) if event.key not in self._printed]
        self._printed.update(event.key for event in fresh)
        return "".join(self._render(event) for event in fresh)


def render_stream(status: TaskStatus, *, jsonl: bool = False) -> str:
    """Everything one status shows, from the opening banner on."""
    return StreamPrinter(jsonl=jsonl).feed(status)


def stream_time(moment: datetime) -> str:
    """Ruby's Time#to_s in UTC, as DTK printed it: `2015-11-26 17:16:55 +0000`."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S +0000")


def render_event(event: StreamEvent) -> str:
    match event:
        case TaskStart():
            when = f"{stream_time(event.started_at)} " if event.started_at else ""
            return f"{BRACKET} {when}start '{event.name}' {BRACKET}\n\n\n"
        case StageStart():
            return _stage_start(event)
        case StageEnd():
            return _stage_end(event)
        case TaskEnd():
            seconds = event.duration_seconds
            total = f" (total duration: {seconds:.1f}s)" if seconds is not None else ""
            return f"{BRACKET} end: '{event.name}'{total} {BRACKET}\n"


def _stage_start(event: StageStart) -> str:
    lines = [STAGE_OPENING, f"STAGE {event.index}: {event.name}"]
    if event.started_at:
        lines.append(f"TIME START: {stream_time(event.started_at)}")
    if event.operation:
        lines += [f"OPERATION: {event.operation}", *(f"  {node}" for node in event.nodes)]
    if len(event.components) == 1:
        lines.append(f"COMPONENT: {event.components[0]}")
    elif event.components:
        lines += ["COMPONENTS:", *(f"  {component}" for component in event.components)]
    lines += [f"ACTION: {action}" for action in event.actions]
    return "\n".join(lines) + "\n"


def _stage_end(event: StageEnd) -> str:
    lines = [f"STATUS: {event.status or 'UNKNOWN'}"]
    if event.duration_seconds is not None:
        lines.append(f"DURATION: {event.duration_seconds:.1f}s")
    if event.results:
        lines += ["RESULTS:", "", *(line for node in event.results for line in _node_results(node))]
    if event.errors:
        lines += ["ERRORS:", *(line for node in event.errors for line in _node_errors(node))]
    return "\n".join([*lines, STAGE_CLOSING, "", ""])


def _node_results(node: NodeResults) -> list[str]:
    lines = [f"NODE: {node.node}"]
    for position, result in enumerate(node.results):
        lines += (["--"] if position else []) + _command_lines(result)
    return [*lines, ""]


def _command_lines(result: CommandResult) -> list[str]:
    lines = [f"RUN: {printable(result.run)} ({result.type})"]
    if result.return_code is not None:
        lines.append(f"RETURN CODE: {result.return_code}")
    if result.truncated:
        lines.append("OUTPUT TRUNCATED: only the end of the output was kept")
    for title, text in (("STDOUT:", result.stdout), ("STDERR:", result.stderr)):
        if text.strip():
            lines += [title, *_indented(printable(text))]
    return lines


def _node_errors(node: NodeErrors) -> list[str]:
    lines = [f"NODE-GROUP: {node.node}" if node.is_group else f"NODE: {node.node}"] if node.node else []
    for error in node.errors:
        lines += [*_indented(printable(error.message)), ""]
    return lines


def _indented(text: str) -> list[str]:
    """Every line two spaces in (DTK indented only the first); no trailing blank lines."""
    return [f"  {line}" if line else "" for line in text.rstrip().splitlines()]


def render_event_json(event: StreamEvent) -> str:
    """One JSON object per line; `version` changes only when a field changes meaning."""
    kind, _, _ = event.key.partition(":")
    body: dict[str, object] = {"version": JSONL_VERSION, "event": kind}
    match event:
        case TaskStart():
            body |= {"task": event.name, "startedAt": _json_time(event.started_at)}
        case StageStart():
            body |= {"stage": event.index, "name": event.name, "startedAt": _json_time(event.started_at),
                     "operation": event.operation, "nodes": list(event.nodes),
                     "components": list(event.components), "actions": list(event.actions)}
        case StageEnd():
            body |= {"stage": event.index, "name": event.name, "status": event.status,
                     **_json_span(event.started_at, event.ended_at, event.duration_seconds),
                     "results": [_json_result(node.node, r) for node in event.results for r in node.results],
                     "errors": [{"node": node.node, "type": e.type, "message": e.message}
                                for node in event.errors for e in node.errors]}
        case TaskEnd():
            body |= {"task": event.name, "state": event.state,
                     **_json_span(event.started_at, event.ended_at, event.duration_seconds)}
    return json.dumps(body) + "\n"


def _json_time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None


def _json_span(start: datetime | None, end: datetime | None, seconds: float | None) -> dict[str, object]:
    duration = None if seconds is None else round(seconds, 3)
    return {"startedAt": _json_time(start), "endedAt": _json_time(end), "durationSeconds": duration}


def _json_result(node: str, result: CommandResult) -> dict[str, object]:
    return {"node": node, "run": result.run, "type": result.type, "returnCode": result.return_code,
            "stdout": result.stdout, "stderr": result.stderr, "truncated": result.truncated}
