"""Streams one Task in DTK's stage-by-stage format until it ends (`task-status -m stream`, `-s`)."""

from __future__ import annotations

from typing import Any

from dtk_api.resources import workflow_display_name
from dtk_api.task_wire import from_status
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.follow.watch import follow_task
from kubectl_dtk.views.stream import StreamPrinter


def stream_task(ctx: Context, name: str, *, timeout: float | None = None, jsonl: bool = False) -> int:
    """Replays finished stages from stage 1, then follows live; returns the outcome's exit code.
    Raises FollowTimeout (exit 3) when `timeout` seconds pass first."""
    printer: StreamPrinter | None = None
    task: dict[str, Any] = {}
    waiting = ""
    for task in follow_task(ctx.client, name, timeout=timeout):
        if printer is None:  # the workflow names the banners of a Task that fails before its rows exist
            title = workflow_display_name(str((task.get("spec") or {}).get("workflow") or name))
            printer = StreamPrinter(jsonl=jsonl, title=title)
        status = from_status(task.get("status") or {})
        if status.state == "pending" and status.message and status.message != waiting:
            # A queued Task prints nothing until it starts: say why on stderr (stdout keeps the format).
            waiting = status.message
            ctx.warn(f"task {name} is pending: {waiting}")
        text = printer.feed(status)
        if text:
            ctx.out.write(text)
            ctx.out.flush()
    return exit_codes.of_outcome(str((task.get("status") or {}).get("state", "")))
