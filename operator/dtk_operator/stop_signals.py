"""SIGINT and SIGTERM stop a process, whenever they come, however many, whichever thread catches them.

Traps this avoids, each seen as a process that did not stop, or stopped badly:
- A handler that takes a lock (threading.Event.set, logging) deadlocks when the signal lands while
  the main thread holds that lock, or during the handler itself when signals come in a burst. The
  handlers here set a flag and, when asked to, raise; nothing else.
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
from typing import Any, NoReturn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None  # what signal.signal returns


class StopRequested(BaseException):
    """A stop signal, raised when asked for. A BaseException, as KeyboardInterrupt is, so that no `except
    Exception` on the way swallows it; every context manager it passes through stops what it started."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number, self.name = number, signal.Signals(number).name


class StopSignals:
    """Within `with StopSignals(raising=...) as stop:`, a SIGINT or SIGTERM sets the flag (`stop.is_set()`,
    `stop.wait(timeout)`, as a threading.Event answers them). With raising=True, each one also raises
    StopRequested in the main thread, wherever it is, until `stop_raising()`: call that when the stop's
    own clean-up begins, so that later signals cannot cut it short (and so that a StopRequested that a
    finalizer swallowed, as Python does with exceptions raised in `__del__`, is raised again by the next)."""

    def __init__(self, *, raising: bool) -> None:
        self.raising = raising
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
        self.raising = False
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
        if self.raising:
            raise StopRequested(number)

    def stop_raising(self) -> None:
        self.raising = False

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

    def wait_forever(self) -> NoReturn:
        """For raising=True: blocks until a stop signal raises StopRequested out of this call."""
        while not self.wait():
            pass  # a wake(): nobody asked this waiter to end
        raise StopRequested(self.received or signal.SIGTERM)  # raising was turned off meanwhile
