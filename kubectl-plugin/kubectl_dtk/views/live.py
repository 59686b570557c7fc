"""`task-status --wait` on a terminal: DTK's box table redrawn in place as the Task changes.

The only module that imports rich, and it is imported only for this mode (rich costs start-up
time every other command would pay for nothing). rich.live.Live does the in-place redraw; what
it draws is our own ASCII box text, so the view looks exactly like the snapshot (seed 000).
The data comes from the watch in follow.py: a frame is redrawn when the Task changes; the timed
repaint only moves the elapsed clock and follows a resized terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

from dtk_api.task_status import TaskStatus
from dtk_api.task_wire import from_status
from kubectl_dtk.client import Body
from kubectl_dtk.context import Context
from kubectl_dtk.follow import follow_task
from kubectl_dtk.helper_threads import helpers_leave_sigint_to_the_main_thread
from kubectl_dtk.views.live_progress import where_it_is
from kubectl_dtk.views.live_window import fit_table, focus_row
from kubectl_dtk.views.model import TASK_TABLE_HEADERS, as_utc, task_table
from kubectl_dtk.views.table import render_box_table

REPAINTS_PER_SECOND = 2  # the clock in the status line; a status change is drawn at once


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


def watch_live(ctx: Context, task: Body, *, timeout: float | None, summarize: bool) -> Body:
    """Redraws `task` until it ends; returns its last body. The frame is erased at the end (the
    caller prints the final table normally); on Ctrl-C or a timeout the last frame stays."""
    console = Console(file=ctx.out, color_system="auto" if ctx.color else None, highlight=False)
    name = str(task["metadata"]["name"])
    frame = Frame(name, summarize=summarize)
    frame.show(from_status(task.get("status") or {}))  # the first frame is the body already fetched
    live = Live(frame, console=console, refresh_per_second=REPAINTS_PER_SECOND, transient=True,
                redirect_stdout=False, redirect_stderr=False)
    # Not `with live:` — a Ctrl-C inside Live.start() (after it hid the cursor, before it returned)
    # would skip __exit__ and leave the user's terminal without a cursor. stop() undoes whatever
    # part of start() ran.
    try:
        with helpers_leave_sigint_to_the_main_thread():  # Live.start() starts rich's repaint thread
            live.start(refresh=True)
        for task in follow_task(ctx.client, name, timeout=timeout):
            frame.show(from_status(task.get("status") or {}))
            live.refresh()
    except BaseException:
        live.transient = False  # leave the last frame on screen, as DTK's top mode did
        raise
    finally:
        live.stop()
    return task
