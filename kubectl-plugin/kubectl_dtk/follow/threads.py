"""Ctrl-C reaches the main thread, even with helper threads (rich's repaint thread, the watch pump).

Python runs signal handlers in the main thread only, but the kernel may hand a process-directed
SIGINT to any thread that does not block it. Taken by a helper thread, a Ctrl-C waited until the
main thread next ran Python code: with the main thread in a quiet watch's socket read, up to the
watch window (25 s). A thread inherits its creator's signal mask, so helpers started within
`helpers_leave_sigint_to_the_main_thread()` block SIGINT, and only the main thread can take it.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def helpers_leave_sigint_to_the_main_thread() -> Iterator[None]:
    """Threads started in the block have SIGINT blocked. (A Ctrl-C meanwhile waits, pending, for the
    main thread to unblock it, at the end of the block.)"""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
