"""Pure views of the Task commands: `list-tasks` rows and `task-action-detail` text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api.resources import workflow_display_name
from dtk_api.task_status import CommandResult, Step, StepError, TaskStatus
from dtk_api.timefmt import parse_time
from kubectl_dtk.api.objects import short_id
from kubectl_dtk.commands.tasks.ops import state_of
from kubectl_dtk.views.model import table_time
from kubectl_dtk.views.printable import printable

TASK_HEADERS = ("ID", "STATUS", "TASK TYPE", "START", "END", "MESSAGE")
# The why of a failure or a wait is cut to this many characters in the MESSAGE cell; task-status
# and task-action-detail show all of it.
REASON_WIDTH = 80
DETAIL_RULE = "=" * 60


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


def detail_steps(status: TaskStatus, index: str) -> list[Step] | None:
    """The row `index` and its descendants (a stage shows all its nodes' commands); None if no
    such row."""
    if not any(step.index == index for step in status.steps):
        return None
    return [step for step in status.steps if step.index == index or step.index.startswith(index + ".")]


def render_action_detail(steps: Sequence[Step]) -> str:
    """DTK's task-action-detail: per command a rule, RUN, STATUS (the return code), STDOUT and
    STDERR; outputs go on their own lines, indented, so multi-line text stays readable. A row's
    errors (a timeout, a failure before any command) follow its commands."""
    blocks = [_command_block(step, result) for step in steps for result in step.results]
    blocks += [_error_block(step) for step in steps if step.errors]
    return "".join(blocks)


def _where(step: Step) -> str:
    return f"NODE: {step.node or '-'} (row {step.index} {step.name})\n"


def _command_block(step: Step, result: CommandResult) -> str:
    lines = [DETAIL_RULE + "\n", f"RUN: {printable(result.run)} ({result.type})\n", _where(step),
             f"STATUS: {_return_code(step, result)}\n"]
    if result.truncated:
        lines.append("NOTE: output cut: only the last 4 KiB of STDOUT and of STDERR are kept\n")
    lines += ["STDOUT:\n", _indented(printable(result.stdout)), "STDERR:\n", _indented(printable(result.stderr))]
    return "".join(lines)


def _return_code(step: Step, result: CommandResult) -> str:
    if result.return_code is not None:
        return str(result.return_code)
    return "none yet (running)" if step.status == "executing" else "none (the command was killed)"


def _error_block(step: Step) -> str:
    return f"{DETAIL_RULE}\n{_where(step)}ERRORS:\n" + "".join(_error_lines(error) for error in step.errors)


def _error_lines(error: StepError) -> str:
    """`[USER ERROR] message` as in task-status's legend; continuation lines indented under it."""
    first, *rest = printable(error.message).rstrip().split("\n")
    return "".join([f"  [{error.type.upper()} ERROR] {first}\n", *(f"    {line}\n" for line in rest)])


def _indented(text: str) -> str:
    if not text:
        return ""
    return "".join(f"  {line}\n" if line else "\n" for line in text.rstrip("\n").split("\n"))


def nothing_ran_text(step: Step) -> str:
    """Why a row shows no commands: it has not started, none has finished yet, or it has none
    (node creation, or a row skipped by a guard)."""
    row = f"row {step.index} ({step.name}{' on ' + step.node if step.node else ''})"
    if not step.status:
        return f"{row.capitalize()} has not run yet\n"
    if step.status == "executing":
        return f"No command of {row} has finished yet\n"
    return f"{row.capitalize()} ran no commands ({step.status})\n"
