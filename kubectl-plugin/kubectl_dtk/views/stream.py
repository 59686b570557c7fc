"""`task-status -m stream`: DTK's stage-by-stage text (seed 000), or the same events as JSON lines
(stream_json.py).

`StreamPrinter` follows a Task across the statuses a watch delivers and returns only what has
not been printed yet, so the first status replays the finished stages from stage 1 (as DTK's
cursor did) and later ones add each stage's start part when it starts and end part when it ends.
"""

from __future__ import annotations

from datetime import datetime

from dtk_api.task_status import CommandResult, Failure, TaskStatus
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
from kubectl_dtk.views.printable import printable
from kubectl_dtk.views.stream_json import render_event_json
from kubectl_dtk.views.times import as_utc

BRACKET = "=" * 25
STAGE_OPENING = "=" * 60
STAGE_CLOSING = "-" * 60


class StreamPrinter:
    """Feed it every status seen; print what it returns. Stale or repeated statuses return ""."""

    def __init__(self, *, jsonl: bool = False, title: str = "") -> None:
        """`title` (the workflow's display name) names a Task whose status has no rows."""
        self._render = render_event_json if jsonl else render_event
        self._printed: set[str] = set()
        self._title = title

    @property
    def finished(self) -> bool:
        """True once the end of the Task has been printed: a follower can stop watching."""
        return "task_end" in self._printed

    def feed(self, status: TaskStatus) -> str:
        if status.steps and not status.steps[0].index:
            # Kept: a final status may lose its rows (refused by the API server, SPEC 4) and the
            # closing banner must still name what the opening one named.
            self._title = status.steps[0].name
        fresh = [event for event in stream_events(status, title=self._title) if event.key not in self._printed]
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
            return _failure_lines(event.failure) + f"{BRACKET} end: '{event.name}'{total} {BRACKET}\n"


def failure_text(failure: Failure) -> str:
    """`step 3.1 on web: message`, the operator's own wording; a Task refused before any row ran
    (bad input, its own timeout) has no step to name."""
    where = f"step {failure.index}" + (f" on {failure.node}" if failure.node else "") if failure.index else ""
    return f"{where}: {failure.message}" if where else failure.message


def _failure_lines(failure: Failure | None) -> str:
    """The last words before the closing banner, where a CI log's reader looks first."""
    if failure is None or not failure.message:
        return ""
    first, *rest = printable(failure_text(failure)).rstrip().split("\n")
    return "".join([f"TASK FAILED: {first}\n", *(f"  {line}\n" for line in rest)])


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
    # A stage's end is printed once it ended: a command without a return code by then was killed
    # (a step timeout, a cancel), which the line says instead of leaving the RUN line hanging.
    code = "none (the command was killed)" if result.return_code is None else result.return_code
    lines = [f"RUN: {printable(result.run)} ({result.type})", f"RETURN CODE: {code}"]
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
