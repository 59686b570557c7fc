"""SIGINT and SIGTERM stop a process, whenever they come, however many, whichever thread catches them.

Traps this avoids, each seen as a process that did not stop, or stopped badly:
- A handler that takes a lock (threading.Event.set, logging) deadlocks when the signal lands while
  the main thread holds that lock, or during the handler itself when signals come in a burst. The
  handler here sets a flag; nothing else (an exception raised from it, as KeyboardInterrupt is, can
  be swallowed by a finalizer, or cut a clean-up short).
- Python runs handlers in the main thread, but the kernel may hand a process-directed signal to any
  thread (one that was on a CPU, or entered the kernel first, on a loaded machine). A main thread
  blocked in pause() or a lock then never runs the handler. Here the main thread waits in select() on
  the wakeup fd, which CPython's C-level handler writes whichever thread caught the signal.
- Default handlers put back while the process still winds down: a second signal then kills it half
  way. Once a stop has come, later signals do nothing, and are ignored once the block ends.
- An asyncio loop in the main thread takes the signals over and, when it closes, resets them to the
  defaults: so kopf runs in a thread of its own (kopf_thread.py) and never touches them.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None  # what signal.signal returns


class StopSignals:
    """Within `with StopSignals() as stop:`, a SIGINT or SIGTERM sets the flag (`stop.is_set()`,
    `stop.wait(timeout)`, as a threading.Event answers them), and nothing else: the main thread that
    waits on it does the stopping, in order. Nothing is raised into code that may be anywhere."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_writer.setblocking(False)  # the C-level handler must never block on a full buffer
        self._previous_fd = -1
        self._previous: dict[int, Handler] = {}

    def __enter__(self) -> StopSignals:
        self._previous_fd = signal.set_wakeup_fd(self._wake_writer.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, self._on_signal) for number in STOP_SIGNALS}
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            # No stop under way: the process goes on, with its old handlers. A stop: the process is
            # ending, and ignores the signals to the end (Python's own exit puts the defaults back
            # for handlers of its own, and one more signal during that killed it; SIG_IGN it leaves).
            signal.signal(number, handler if self.received is None else signal.SIG_IGN)
        signal.set_wakeup_fd(self._previous_fd)
        self._wake_reader.close()
        self._wake_writer.close()

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number)

    def is_set(self) -> bool:
        return self.received is not None

    def wake(self) -> None:
        """Ends a wait() early (from any thread): something else the waiter waits for has happened."""
        with contextlib.suppress(OSError):  # full (a wake is pending anyway) or closed (nobody waits any more)
            self._wake_writer.send(b"\0")

    def wait(self, timeout: float | None = None) -> bool:
        """True once a stop signal has come; False when `timeout` seconds pass first, or on wake()."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.received is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            if select.select([self._wake_reader], [], [], remaining)[0]:
                woken = self._wake_reader.recv(4096)  # signal numbers, or wake()'s zero byte
                if b"\0" in woken and self.received is None:
                    return False
        return True
