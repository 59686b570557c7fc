"""`task-status --wait` on a terminal: DTK's box table redrawn in place as the Task changes.

rich.live.Live does the in-place redraw of views/live.py's Frame (imported only for this mode:
rich costs start-up time). The data comes from the watch in watch.py: a frame is redrawn when
the Task changes; rich's timed repaint only moves the elapsed clock and follows a resized terminal.
"""

from __future__ import annotations

from rich.console import Console
from rich.live import Live

from dtk_api.task_wire import from_status
from kubectl_dtk.api.client import Body
from kubectl_dtk.api.context import Context
from kubectl_dtk.follow.threads import helpers_leave_sigint_to_the_main_thread
from kubectl_dtk.follow.watch import follow_task
from kubectl_dtk.views.live import Frame

REPAINTS_PER_SECOND = 2  # the clock in the status line; a status change is drawn at once


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
