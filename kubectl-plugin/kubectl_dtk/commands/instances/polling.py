"""Bounded waits for what the operator does after a command wrote: a Task to appear, an instance to go."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Polling pauses (seconds): quick at first, since the operator usually answers within a few
# hundred milliseconds, then at most one request a second for the rest of the deadline.
POLL_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)
POLL_PAUSE_MAX = 1.0


def poll_until(probe: Callable[[], T | None], *, timeout: float) -> T | None:
    """`probe()` until it returns something, or None once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        found = probe()
        if found is not None:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        pause = POLL_PAUSES[attempt] if attempt < len(POLL_PAUSES) else POLL_PAUSE_MAX
        time.sleep(min(pause, remaining))
        attempt += 1
