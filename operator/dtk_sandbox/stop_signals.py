"""SIGINT and SIGTERM stop the sandbox, whenever they come, however many, whichever thread catches them.

Two traps this avoids, both seen as a sandbox that never stopped:
- A handler that takes a lock (threading.Event.set) deadlocks when the signal lands while the main
  thread holds that lock, or during the handler itself when signals come in a burst. The handler here
  only raises, and only for the first signal.
- Python runs handlers in the main thread, but the kernel may hand a process-directed signal to any
  thread (one that was on a CPU, or entered the kernel first, on a loaded machine). A main thread
  blocked in pause() or a lock then never runs the handler. Here the main thread waits in select() on
  the wakeup fd, which CPython's C-level handler writes whichever thread caught the signal.
"""

from __future__ import annotations

import select
import signal
import socket
from types import FrameType
from typing import Any, NoReturn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(BaseException):
    """A stop signal. A BaseException, as KeyboardInterrupt is, so that no `except Exception` on the way
    swallows it; every context manager it passes through stops what it started."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number, self.name = number, signal.Signals(number).name


class StopSignals:
    """Within `with StopSignals() as signals:`, the first SIGINT or SIGTERM raises StopRequested in the
    main thread; `signals.wait()` blocks until then."""

    def __init__(self) -> None:
        self._stopping = False
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

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if not self._stopping:  # later signals do nothing: they must not cut the stop short
            self._stopping = True
            raise StopRequested(number)

    def wait(self) -> NoReturn:
        """Blocks until a stop signal, which raises StopRequested out of this call."""
        while True:
            select.select([self._wake_reader], [], [])
            self._wake_reader.recv(4096)  # signal numbers: waking was the point; the handler runs next
