"""Child processes with a log file and a bounded stop: the API emulator and the operator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

STOP_TIMEOUT_SECONDS = 20.0  # kopf's graceful exit takes about 1 s with no Task running; this bounds a hang
POLL_SECONDS = 0.02


class Child:
    """One `python -m ...` child; its output goes to `log` so a failure can quote it."""

    def __init__(self, *, module: str, args: list[str], log: Path, env: Mapping[str, str] | None = None) -> None:
        self.command = [sys.executable, "-m", module, *args]
        self.log = log
        self.env = dict(env or {})  # added to this process's environment (PYTHONPATH: which code it runs)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Child:
        with self.log.open("ab") as out:
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (kopf parks its Tasks and exits), then SIGKILL if it does not end in time or if
        the wait itself is interrupted (a second Ctrl-C, run_all's deadline)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.terminate()
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(STOP_TIMEOUT_SECONDS)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def wait_until(what: str, ready: Callable[[], bool], *, timeout: float, child: Child | None = None) -> None:
    """Polls `ready` until true; raises after `timeout` s, or at once if `child` died meanwhile."""
    deadline = time.monotonic() + timeout
    while not ready():
        if child is not None and not child.alive():
            raise RuntimeError(f"{what}: the process exited early; its log ends with:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL_SECONDS)
