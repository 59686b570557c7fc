"""Keeps the operator's memory and environment out of reach of its own `local` steps.

Steps of the `local` target (and of the `local` command transport) run as the operator's own
user. Linux lets any process of a user read /proc/PID/environ and /proc/PID/mem of that user's
other processes, and ptrace them, unless they are non-dumpable: a step could otherwise print
the operator's environment (`cat /proc/$PPID/environ`: AWS keys, if it was given any) or its
memory (what it has read: EC2 credentials Secrets, AssumeRole session keys, API tokens).
prctl(PR_SET_DUMPABLE, 0) makes the kernel refuse those reads to anyone without CAP_SYS_PTRACE;
it also turns off core dumps of the operator, which would hold the same secrets.

execve resets the flag to 1, so a helper the operator starts must set it itself: the reaper does
(targets/processes.py). Steps stay ordinary, dumpable processes. docs/security.md says what a
local step can still reach.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def make_undumpable() -> bool:
    """Makes this process non-dumpable; True if it now is. Where that cannot be done (not Linux,
    or prctl refused) one warning says so and the operator goes on: it is defence in depth, and
    the local target is for development."""
    problem = _set_undumpable()
    if problem:
        logger.warning("the operator stays dumpable (%s): local steps, which run as its user, can read "
                       "its environment and memory through /proc", problem)
    return not problem


def _set_undumpable() -> str:
    """'' once done, else why not."""
    if not sys.platform.startswith("linux"):
        return f"prctl(PR_SET_DUMPABLE) exists on Linux only, not on {sys.platform}"
    try:
        import ctypes  # here: a Python built without it must still run the operator

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError) as error:
        return f"no prctl: {error}"
    if prctl(ctypes.c_int(PR_SET_DUMPABLE), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0),
             ctypes.c_ulong(0)) != 0:
        return f"prctl(PR_SET_DUMPABLE, 0) failed: {os.strerror(ctypes.get_errno())}"
    return ""
