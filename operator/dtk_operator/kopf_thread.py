"""kopf in a thread of its own, with its own event loop, stopped by cancelling its task.

Why a thread: in the main thread kopf takes SIGINT/SIGTERM over through asyncio, and asyncio puts
the default handlers back when its loop closes, so a second signal killed the process before it had
released its Lease. Out of the main thread kopf leaves the signals alone (stop_signals.py has them).
Why cancelling and not kopf's stop_flag: a stop-flag stop gives kopf's unfinished sub-tasks a fixed
5 s, and an operator stopped just after it started always had one (the resource discovery, retrying
on a closed connection). Cancelled, kopf still stops gracefully: its daemons get their stop request
and their cancellation backoff (Task runs park their status and kill their steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable

from dtk_operator.stop_signals import StopSignals

Operate = Callable[[], Awaitable[None]]  # kopf.operator(...) with its arguments
KOPF_STOP_SECONDS = 20.0  # kopf's graceful stop: a daemon's cancellation backoff (10 s) and timeout (5 s)

logger = logging.getLogger(__name__)


class _NotMainThreadWarning(logging.Filter):
    """kopf warns that "OS signals are ignored" outside the main thread: here that is the design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "OS signals are ignored" not in record.getMessage()


logging.getLogger("kopf._core.reactor.running").addFilter(_NotMainThreadWarning())


class KopfThread:
    def __init__(self, operate: Operate, *, name: str = "kopf", on_end: Callable[[], None] | None = None) -> None:
        self._operate, self._on_end = operate, on_end
        self._lock = threading.Lock()  # orders a cancel() against the thread taking its task
        self._cancelled = False
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self) -> None:
        try:
            with contextlib.suppress(asyncio.CancelledError):
                asyncio.run(self._run())
        except BaseException as error:
            self.error = error
        finally:
            if self._on_end is not None:
                self._on_end()

    async def _run(self) -> None:
        task = asyncio.current_task()
        with self._lock:
            if self._cancelled or task is None:
                return
            self._running = (asyncio.get_running_loop(), task)
        await self._operate()

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Safe at any moment: before start(), while starting, once running, after the end, twice."""
        with self._lock:
            self._cancelled = True
            running = self._running
        if running is not None:
            loop, task = running
            with contextlib.suppress(RuntimeError):  # the loop has already closed: kopf has stopped
                loop.call_soon_threadsafe(task.cancel)

    def join(self, timeout: float | None = None) -> bool:
        """True once the thread has ended (False: still running after `timeout` seconds)."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()


def run_until_stopped(operate: Operate, stop: StopSignals, *, stop_seconds: float) -> BaseException | None:
    """kopf in a KopfThread until it ends on its own or a stop signal comes (the main thread only
    waits); then cancelled, and given `stop_seconds` to stop. Returns kopf's error, had it failed."""
    ended = threading.Event()

    def kopf_ended() -> None:
        ended.set()
        stop.wake()

    kopf = KopfThread(operate, on_end=kopf_ended)
    kopf.start()
    while not ended.is_set() and not stop.wait():
        pass  # woken by kopf's end, or by a stop signal
    if stop.received is not None:
        logger.info("%s received; stopping kopf", stop.received.name)
    kopf.cancel()
    if not kopf.join(stop_seconds):
        logger.warning("kopf did not stop within %g s; going on without it", stop_seconds)
    return kopf.error
