"""Step processes that die with the operator that started them (SPEC 5: no orphan finishes a step).

Two layers:
- a reaper: one small process per operator life, holding the read end of a pipe. The operator
  tells it the process group of every step it starts (before the step may begin) and ends. When
  the operator dies, however it dies (SIGKILL included), the kernel closes the pipe, the reaper
  reads end-of-file and kills every group still listed: the steps, their children and
  grandchildren. Steps start without any hook between fork and exec (which costs several ms);
- every step carries its owner in its environment (the instance's folder and this operator
  life's id, the Task and the row), so a restarted operator finds and kills whatever a previous
  life left behind for the rows it will run again (a process that left its step's group, with
  `setsid`, is out of the reaper's reach) before it runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Collection, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

SCOPE_VARIABLE = "DTK_STEP_SCOPE"  # the instance's folder: whose step this is
LIFE_VARIABLE = "DTK_STEP_LIFE"  # which operator life started it
THIS_LIFE = uuid.uuid4().hex
REAP_DEADLINE_SECONDS = 10.0  # SIGKILLed processes are gone within milliseconds unless stuck in the kernel

# The reaper's whole program. It holds the operator's environment and execve made it dumpable
# again, so first it makes itself non-dumpable as the operator is (hardening.py; 4 is
# PR_SET_DUMPABLE) and says so on stdout: "ready", or why not (off Linux there is nothing to do,
# and the operator has said so once). Then "+PGID" / "-PGID" lines on stdin; at end-of-file,
# SIGKILL what is listed. `-S`: no site import, it starts in a few ms and holds no memory worth
# mentioning. The step's wrapper needs none of this: it holds only the step's environment, and
# becomes the step (held_command below).
_REAPER = """
import os, signal, sys
def undumpable():
    if not sys.platform.startswith("linux"):
        return "ready"
    try:
        import ctypes
        zero = ctypes.c_ulong(0)
        if ctypes.CDLL(None, use_errno=True).prctl(4, zero, zero, zero, zero) == 0:
            return "ready"
        return "prctl(PR_SET_DUMPABLE, 0) failed: " + os.strerror(ctypes.get_errno())
    except (ImportError, OSError, AttributeError) as error:
        return "no prctl: " + str(error)
try:
    os.write(1, (undumpable() + "\\n").encode())
except OSError:
    pass
groups = set()
for line in sys.stdin:
    (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""
# How long the operator waits for the reaper's first line: it comes in about 20 ms, later on a
# machine starved of CPU. Past this, steps start anyway (the reaper still reaps), with a warning.
READY_DEADLINE_SECONDS = 10.0


class Reaper:
    """Started on first use; one per operator process (see the module's docstring)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # the sandbox runs the operator in a thread of its own

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Starts the reaper unless it runs, and returns once it is non-dumpable (or has said why
        it cannot be): no step may begin before, or it could read the reaper's environment. It
        waits for the reaper's start-up, tens of ms: call it off the event loop."""
        self._pipe()

    def _pipe(self) -> int:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                # A session of its own: a signal to the operator's process group (a terminal's
                # Ctrl-C) must not take the reaper along before it has done its work.
                process = subprocess.Popen([sys.executable, "-S", "-c", _REAPER], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, start_new_session=True)
                _await_ready(process)
                self._process = process
            assert self._process.stdin is not None
            return self._process.stdin.fileno()

    def _tell(self, line: str) -> None:
        try:
            os.write(self._pipe(), line.encode())
        except OSError as error:  # the reaper died: the next step starts a new one
            logger.warning("step reaper unavailable (%s); a restart still kills leftovers", error)

    def track(self, group: int) -> None:
        self._tell(f"+{group}\n")

    def forget(self, group: int) -> None:
        self._tell(f"-{group}\n")

    def reap_now(self, timeout: float) -> None:
        """Kills every step still listed, now, and returns once that is done (or after `timeout`
        seconds): what a leader does before another replica may start steps (SPEC 9). A step
        started afterwards gets a new reaper."""
        with self._lock:
            process, self._process = self._process, None
        if process is None or process.stdin is None:
            return
        process.stdin.close()  # end-of-file: the reaper kills what is listed and exits
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.error("step reaper did not finish within %g s; its steps may still run", timeout)


def _await_ready(process: subprocess.Popen[bytes]) -> None:
    """Waits (up to READY_DEADLINE_SECONDS) for the reaper's first line, then closes its stdout."""
    if process.stdout is None:
        return
    with process.stdout:
        if select.select([process.stdout], [], [], READY_DEADLINE_SECONDS)[0]:
            said = process.stdout.readline().decode(errors="replace").strip() or "it exited"
        else:
            said = f"no word from it within {READY_DEADLINE_SECONDS:g} s"
    if said != "ready":
        logger.warning("the step reaper (pid %d) may be dumpable (%s): local steps, which run as the "
                       "operator's user, could read its environment through /proc", process.pid, said)


REAPER = Reaper()

# The step waits for one line on its stdin before it starts: between the fork and the moment the
# reaper has been told its group, an operator's death would otherwise leave it unknown to the
# reaper and free to run (under load that window lasted tens of ms). If the operator dies first,
# `read` meets end-of-file and the step never starts. Then stdin is at end-of-file, as /dev/null is.
_HELD = 'read -r _ && exec /bin/sh -c "$1"'


def held_command(script: str) -> list[str]:
    return ["/bin/sh", "-c", _HELD, "dtk-step", script]


def release(process: asyncio.subprocess.Process) -> None:
    """Lets a step started with held_command() begin (call it once the reaper knows it)."""
    if process.stdin is not None:
        process.stdin.write(b"go\n")
        process.stdin.close()


TASK_VARIABLE = "DTK_TASK"  # set by the engine for every step: the Task and the row it runs for
ROW_VARIABLE = "DTK_ROW"


def owner_environment(scope: Path) -> dict[str, str]:
    return {SCOPE_VARIABLE: str(scope), LIFE_VARIABLE: THIS_LIFE}


def _environ(pid: str) -> Mapping[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or another user's process: not ours either way
        return {}
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, _, value in pairs}


def leftovers(scope: Path, task: str, rows: Collection[str]) -> list[int]:
    """Processes an earlier operator life started for these rows of this Task in `scope`. Only
    those: a daemon that a finished row started on purpose is the node's business, not a leftover."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            env = _environ(entry)
            if (env.get(SCOPE_VARIABLE) == str(scope) and env.get(LIFE_VARIABLE) != THIS_LIFE
                    and env.get(TASK_VARIABLE) == task and env.get(ROW_VARIABLE) in rows):
                found.append(int(entry))
    return found


def _kill_and_wait(scope: Path, task: str, rows: Collection[str]) -> list[int]:
    deadline = time.monotonic() + REAP_DEADLINE_SECONDS
    killed: set[int] = set()
    while found := leftovers(scope, task, rows):
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"step processes of a previous operator run would not die: {sorted(found)}")
        time.sleep(0.02)
    return sorted(killed)


async def reap_previous_life(scope: Path, task: str, rows: Collection[str]) -> list[int]:
    """Kills what an earlier life of the operator left running for these rows (the ones it was
    running when it died) and returns once they are gone (pids killed). Called before they run again."""
    if not rows:
        return []
    killed = await asyncio.to_thread(_kill_and_wait, scope, task, rows)
    if killed:
        logger.warning("killed %d step process(es) left by a previous operator run in %s: %s",
                       len(killed), scope, killed)
    return killed
