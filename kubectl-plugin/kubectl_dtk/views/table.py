"""The task-status snapshot: DTK's task table in a box (box.py), then the ERRORS legend."""

from __future__ import annotations

from collections.abc import Sequence

from dtk_api.task_status import TaskStatus
from kubectl_dtk.views.box import render_box_table
from kubectl_dtk.views.model import TASK_TABLE_HEADERS, ErrorEntry, task_table
from kubectl_dtk.views.printable import printable

YELLOW = "\x1b[33m"
RED = "\x1b[31m"
RESET = "\x1b[0m"

def render_error_legend(errors: Sequence[ErrorEntry], *, color: bool = False) -> str:
    """`ERRORS:` then `[ 6.1 ] [USER ERROR] message` per error (SPEC section 8), after a blank line
    like DTK's; colour (yellow reference, red message) only when asked for."""
    if not errors:
        return ""
    lines = [_legend_line(entry, color=color) for entry in errors]
    return "\nERRORS:\n\n" + "\n".join(lines) + "\n"


def _legend_line(entry: ErrorEntry, *, color: bool) -> str:
    ref = f"[ {entry.ref} ]"
    # Continuation lines of a long message are indented so that the next entry stands out.
    message = f"{entry.label} {printable(entry.message).rstrip()}".replace("\n", "\n  ")
    return f"{YELLOW}{ref}{RESET} {RED}{message}{RESET}" if color else f"{ref} {message}"


def render_task_table(
    status: TaskStatus, summarize: bool = False, *, color: bool = False, no_headers: bool = False
) -> str:
    """`kubectl dtk task-status` in snapshot mode: the table, then the error legend if any."""
    table = task_table(status, summarize=summarize)
    rows = [row.cells() for row in table.rows]
    return render_box_table(TASK_TABLE_HEADERS, rows, no_headers=no_headers) + render_error_legend(
        table.errors, color=color
    )
