"""Pure rows of `list-tasks`: one line per Task, with why it failed or waits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api.resources import workflow_display_name
from dtk_api.timefmt import parse_time
from kubectl_dtk.api.objects import short_id
from kubectl_dtk.commands.tasks.ops import state_of
from kubectl_dtk.views.times import table_time

TASK_HEADERS = ("ID", "STATUS", "TASK TYPE", "START", "END", "MESSAGE")
# The why of a failure or a wait is cut to this many characters in the MESSAGE cell; task-status
# and task-action-detail show all of it.
REASON_WIDTH = 80


def _time_cell(status: Mapping[str, Any], key: str) -> str:
    value = status.get(key)
    return table_time(parse_time(value)) if isinstance(value, str) and value else ""


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= REASON_WIDTH else line[:REASON_WIDTH - 3] + "..."


def message_cell(task: Mapping[str, Any]) -> str:
    """The user's note (spec.message, DTK's commit message), then why a Task failed or waits:
    the two things a user scanning the list wants to know about one row."""
    status = task.get("status") or {}
    note = str((task.get("spec") or {}).get("message") or "").strip()
    reason = ""
    failure = status.get("failure") or {}
    if state_of(task) == "failed" and failure:
        reason = _short(f"failed{_failure_place(failure)}: {failure.get('message', '')}")
    elif state_of(task) == "pending":
        reason = _short(str(status.get("message") or ""))
    # Not joined with "|": that is the box's column separator, which scripts split on.
    return f"{note} ({reason})" if note and reason else note or reason


def _failure_place(failure: Mapping[str, Any]) -> str:
    """` at 6.1 on master`; a Task refused before it ran (validation) has no row."""
    index, node = failure.get("index"), failure.get("node")
    return (f" at {index}" if index else "") + (f" on {node}" if node else "")


def task_row(task: Mapping[str, Any]) -> tuple[str, ...]:
    status = task.get("status") or {}
    workflow = str((task.get("spec") or {}).get("workflow", ""))
    return (short_id(task), state_of(task), workflow_display_name(workflow), _time_cell(status, "startedAt"),
            _time_cell(status, "endedAt"), message_cell(task))
