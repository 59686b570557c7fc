"""`task-status --wait` on a terminal: the frame rich draws, DTK's box table and a status line.

One of the two modules that import rich (with follow/live.py, which drives it), imported only
for this mode: rich costs start-up time every other command would pay for nothing. What rich
draws is our own ASCII box text, so the view looks exactly like the snapshot (seed 000); the
timed repaint only moves the elapsed clock and follows a resized terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from dtk_api.task_status import TaskStatus
from kubectl_dtk.views.box import render_box_table
from kubectl_dtk.views.live_progress import where_it_is
from kubectl_dtk.views.live_window import fit_table, focus_row
from kubectl_dtk.views.model import TASK_TABLE_HEADERS, task_table
from kubectl_dtk.views.times import as_utc


@dataclass(frozen=True)
class _Shown:
    """One Task status as drawn: replaced whole, so the repaint thread never sees half of it."""

    lines: tuple[str, ...]
    focus: int
    status: TaskStatus


class Frame:
    """What Live draws: the latest table fitted to the terminal, then a status line."""

    def __init__(self, task_name: str, *, summarize: bool) -> None:
        self.task_name, self.summarize = task_name, summarize
        self._shown = _Shown(lines=(), focus=0, status=TaskStatus())

    def show(self, status: TaskStatus) -> None:
        table = task_table(status, summarize=self.summarize)
        text = render_box_table(TASK_TABLE_HEADERS, [row.cells() for row in table.rows])
        self._shown = _Shown(lines=tuple(text.splitlines()), focus=focus_row([row.status for row in table.rows]),
                             status=status)

    def status_line(self, now: datetime) -> str:
        status = self._shown.status
        elapsed = f"; {_clock(now - as_utc(status.started_at))} elapsed" if status.started_at else ""
        return f"Watching task '{self.task_name}': {where_it_is(status)}{elapsed} (Ctrl-C to leave)"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = self._shown
        lines = fit_table(shown.lines, height=console.size.height - 1, focus=shown.focus)
        # no_wrap: a wrapped line would break the box and the height the redraw relies on
        yield Text("\n".join([*lines, self.status_line(datetime.now(UTC))]), no_wrap=True, overflow="crop")


def _clock(span: timedelta) -> str:
    minutes, seconds = divmod(max(int(span.total_seconds()), 0), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
