"""SIGINT and SIGTERM stop a process, whenever they come, however many, whichever thread catches them.

Two traps this avoids, both seen as a sandbox that never stopped:
- A handler that takes a lock (threading.Event.set, logging) deadlocks when the signal lands while
  the main thread holds that lock, or during the handler itself when signals come in a burst. The
  handlers here only set a flag, and raise (when asked to) for the first signal only.
- Python runs handlers in the main thread, but the kernel may hand a process-directed signal to any
  thread (one that was on a CPU, or entered the kernel first, on a loaded machine). A main thread
  blocked in pause() or a lock then never runs the handler. Here the main thread waits in select() on
  the wakeup fd, which CPython's C-level handler writes whichever thread caught the signal.
"""

from __future__ import annotations

import select
import signal
import socket
import time
from types import FrameType
from typing import Any, NoReturn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(BaseException):
    """A stop signal, raised when asked for. A BaseException, as KeyboardInterrupt is, so that no `except
    Exception` on the way swallows it; every context manager it passes through stops what it started."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number, self.name = number, signal.Signals(number).name


class StopSignals:
    """Within `with StopSignals(raising=...) as stop:`, the first SIGINT or SIGTERM sets the flag
    (`stop.is_set()`, `stop.wait(timeout)`, as a threading.Event answers them) and, with raising=True,
    also raises StopRequested in the main thread, wherever it is. Later signals change nothing."""

    def __init__(self, *, raising: bool) -> None:
        self.raising = raising
        self.received: signal.Signals | None = None
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_writer.setblocking(False)  # the C-level handler must never block on a full buffer
        self._previous_fd = -1
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self._previous_fd = signal.set_wakeup_fd(self._wake_writer.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, self._on_signal) for number in STOP_SIGNALS}
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._wake_reader.close()
        self._wake_writer.close()

    def reinstall(self) -> None:
        """After an asyncio loop that handled the signals itself closed (it resets them to the defaults)."""
        signal.set_wakeup_fd(self._wake_writer.fileno(), warn_on_full_buffer=False)
        for number in STOP_SIGNALS:
            signal.signal(number, self._on_signal)

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number)
            if self.raising:
                raise StopRequested(number)

    def is_set(self) -> bool:
        return self.received is not None

    def wait(self, timeout: float | None = None) -> bool:
        """True as soon as a stop signal has come (False when `timeout` seconds pass first)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.received is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            if select.select([self._wake_reader], [], [], remaining)[0]:
                self._wake_reader.recv(4096)  # signal numbers: waking was the point; the handler runs next
        return True

    def wait_forever(self) -> NoReturn:
        """For raising=True: blocks until the stop signal raises StopRequested out of this call."""
        self.wait()
        raise StopRequested(self.received or signal.SIGTERM)  # reached only with raising turned off
