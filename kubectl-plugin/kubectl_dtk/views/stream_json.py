"""`task-status -m stream -o jsonl`: the stream's events as JSON lines, for machines (CI, jq).

`version` changes only when a field changes meaning; fields may be added (task_end's `failure`
came with version 1: null when the Task did not fail).
"""

from __future__ import annotations

import json
from datetime import datetime

from dtk_api.task_status import CommandResult, Failure
from dtk_api.timefmt import format_time
from kubectl_dtk.views.events import StageEnd, StageStart, StreamEvent, TaskEnd, TaskStart

JSONL_VERSION = 1


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
                     **_json_span(event.started_at, event.ended_at, event.duration_seconds),
                     "failure": _json_failure(event.failure)}
    return json.dumps(body) + "\n"


def _json_failure(failure: Failure | None) -> dict[str, object] | None:
    if failure is None:
        return None
    return {"index": failure.index, "node": failure.node, "message": failure.message,
            "returnCode": failure.return_code}


def _json_time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None


def _json_span(start: datetime | None, end: datetime | None, seconds: float | None) -> dict[str, object]:
    duration = None if seconds is None else round(seconds, 3)
    return {"startedAt": _json_time(start), "endedAt": _json_time(end), "durationSeconds": duration}


def _json_result(node: str, result: CommandResult) -> dict[str, object]:
    return {"node": node, "run": result.run, "type": result.type, "returnCode": result.return_code,
            "stdout": result.stdout, "stderr": result.stderr, "truncated": result.truncated}
