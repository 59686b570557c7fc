"""`task-status --wait` off a terminal: progress lines as the Task changes, and heartbeats.

CI must never see a silent job (SPEC section 8): a heartbeat is printed whenever no line has
been for `every` seconds, even while the watch is quiet or delivers changes too small for a
line (a member of a 200-node group ending). The watch blocks in a socket read, so it runs in a
thread and hands each Task over a queue; this thread waits on the queue with the heartbeat's
deadline and is the only one that prints.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TextIO

from dtk_api.task_wire import from_status
from kubectl_dtk.api.client import Body
from kubectl_dtk.api.context import Context
from kubectl_dtk.follow.threads import helpers_leave_sigint_to_the_main_thread
from kubectl_dtk.follow.watch import follow_task
from kubectl_dtk.views.live_progress import ProgressLines

_Item = tuple[Body, None] | tuple[None, BaseException] | tuple[None, None]


class _Feed:
    """Iterates a blocking source in a daemon thread; `take` waits for the next item with a
    deadline. The source's exception (timeout, API error) is raised again in the caller."""

    def __init__(self, source: Iterator[Body]) -> None:
        self._items: queue.Queue[_Item] = queue.Queue()
        self.ended = False
        # daemon: on Ctrl-C the process leaves without waiting for a watch to time out
        with helpers_leave_sigint_to_the_main_thread():
            threading.Thread(target=self._pump, args=(source,), name="dtk-follow", daemon=True).start()

    def _pump(self, source: Iterator[Body]) -> None:
        try:
            for task in source:
                self._items.put((task, None))
        except BaseException as error:  # handed over, reported by the main thread
            self._items.put((None, error))
            return
        self._items.put((None, None))

    def take(self, timeout: float) -> Body | None:
        """The next Task; None when `timeout` passed first or the source ended (see `ended`)."""
        try:
            task, error = self._items.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if error is not None:
            raise error
        self.ended = task is None
        return task


def follow_with_lines(ctx: Context, name: str, *, timeout: float | None, out: TextIO, every: float) -> Body:
    """Prints progress lines until the Task ends; returns its last body. Raises FollowTimeout."""
    feed = _Feed(follow_task(ctx.client, name, timeout=timeout))
    progress = ProgressLines(name)
    task: Body = {}
    last_line = time.monotonic()
    while not feed.ended:
        got = feed.take(last_line + every - time.monotonic())
        now = datetime.now(UTC)
        lines: list[str] = []
        if got is not None:
            task, lines = got, progress.feed(from_status(got.get("status") or {}), now)
        if not lines and not feed.ended and time.monotonic() - last_line >= every:
            lines = [progress.heartbeat(now)]
        if lines:
            out.write("".join(f"{line}\n" for line in lines))
            out.flush()
            last_line = time.monotonic()
    return task
