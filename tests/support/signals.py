"""Signals sent to a process over and over until it exits, as a supervisor that repeats SIGTERM or a
user pressing Ctrl-C again and again would: one lands in every window of the stop path, start to end."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

SIGNAL_INTERVAL_SECONDS = 0.002


@dataclass(frozen=True)
class Stopped:
    code: int | None  # None: still running at the deadline (then killed)
    signals: int  # how many were sent
    seconds: float  # from the first signal to the exit


def signal_until_exit(process: subprocess.Popen[str], number: int, deadline_seconds: float) -> Stopped:
    """Sends `number` every 2 ms until `process` exits; kills it at the deadline. Only this function
    reaps it (poll), so its pid cannot be reused by another process while signals still go to it."""
    began, sent = time.monotonic(), 0
    while process.poll() is None:
        if time.monotonic() - began > deadline_seconds:
            process.kill()
            process.wait()
            return Stopped(None, sent, time.monotonic() - began)
        os.kill(process.pid, number)  # not reaped yet (poll said so): the pid is still this process's
        sent += 1
        time.sleep(SIGNAL_INTERVAL_SECONDS)
    return Stopped(process.returncode, sent, time.monotonic() - began)
