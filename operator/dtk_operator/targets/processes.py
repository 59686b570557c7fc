"""Step processes that die with the operator that started them (SPEC 5: no orphan finishes a step).

Two layers, because the kernel's parent-death signal reaches only the direct child:
- each step runs under a small `/bin/sh` guard, the leader of its own process group, that the
  kernel signals (PR_SET_PDEATHSIG) when the operator dies; the guard then kills its whole group,
  so the step's children and grandchildren go too, not only the shell;
- every step carries its owner in its environment (the instance's folder and this operator
  life's id), so a restarted operator finds and kills whatever a previous life left behind
  (a step that escaped its group, or a guard forked in the instant its operator died) before it
  runs any row of that instance again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

SCOPE_VARIABLE = "DTK_STEP_SCOPE"  # the instance's folder: whose step this is
LIFE_VARIABLE = "DTK_STEP_LIFE"  # which operator life started it
THIS_LIFE = uuid.uuid4().hex
REAP_DEADLINE_SECONDS = 10.0  # SIGKILLed processes are gone within milliseconds unless stuck in the kernel

# $1 is the step. `wait` returns as soon as the trapped signal arrives, and `kill 0` signals the
# guard's own process group: the step and everything it started.
_GUARD = 'trap "kill -KILL 0" TERM; /bin/sh -c "$1" & wait $!; exit $?'
_PR_SET_PDEATHSIG = 1


def guarded_command(script: str) -> list[str]:
    return ["/bin/sh", "-c", _GUARD, "dtk-step", script]


@functools.cache
def parent_death_hook() -> Callable[[], None] | None:
    """Runs in the child between fork and exec: ask for SIGTERM when the operator dies, and give
    up at once if it already died in between (the signal would never come)."""
    if not sys.platform.startswith("linux"):
        return None  # elsewhere (a developer's macOS) only the restart's reaping applies
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up once, here: the child only calls it
    # The parent is this process: the pid is read when the hook is made, never in the child.
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def owner_environment(scope: Path) -> dict[str, str]:
    return {SCOPE_VARIABLE: str(scope), LIFE_VARIABLE: THIS_LIFE}


def _environ(pid: str) -> Mapping[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or another user's process: not ours either way
        return {}
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, _, value in pairs}


def leftovers(scope: Path) -> list[int]:
    """Processes of an earlier operator life still running a step of this scope."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            env = _environ(entry)
            if env.get(SCOPE_VARIABLE) == str(scope) and env.get(LIFE_VARIABLE) != THIS_LIFE:
                found.append(int(entry))
    return found


def _kill_and_wait(scope: Path) -> list[int]:
    deadline = time.monotonic() + REAP_DEADLINE_SECONDS
    killed: set[int] = set()
    while found := leftovers(scope):
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"step processes of a previous operator run would not die: {sorted(found)}")
        time.sleep(0.02)
    return sorted(killed)


async def reap_previous_life(scope: Path) -> list[int]:
    """Kills every step process an earlier life of the operator left running in `scope`, and
    returns once they are gone (pids killed). Called before an interrupted Task runs again."""
    killed = await asyncio.to_thread(_kill_and_wait, scope)
    if killed:
        logger.warning("killed %d step process(es) left by a previous operator run in %s: %s",
                       len(killed), scope, killed)
    return killed
