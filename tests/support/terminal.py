"""The real `kubectl-dtk` executable on a pseudo-terminal (the live view of `task-status --wait`)."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import time
from pathlib import Path

from support.cluster import Kube
from support.plugin import EXECUTABLE

ROWS, COLUMNS = 50, 160


class Terminal:
    """The real executable on a pseudo-terminal that is its controlling terminal, so that ^C
    written to it reaches the process as SIGINT, as when a user presses it."""

    def __init__(self, kube: Kube, *args: str) -> None:
        argv = [str(EXECUTABLE), *args, "--kubeconfig", str(kube.kubeconfig), "-n", kube.namespace]
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color",
                                                                          "LINES": str(ROWS),
                                                                          "COLUMNS": str(COLUMNS),
                                                                          "PYTHONFAULTHANDLER": "1"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: only exec, nothing else, in a forked multi-threaded process
            # As an interactive shell starts a foreground job: default dispositions. A test run
            # started in the background by a script (`pytest &`) has SIGINT and SIGQUIT ignored,
            # and ignored signals stay ignored across exec: ^C would never reach the plugin.
            for number in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)
            os.execve(argv[0], argv, env)
        self.raw = b""
        self.code: int | None = None

    @property
    def text(self) -> str:
        return self.raw.decode(errors="replace")

    def _read(self, timeout: float) -> bool:
        """Reads what is there within `timeout`; False once the terminal is closed."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child has gone and the terminal is closed
            return False
        self.raw += chunk
        return bool(chunk)

    def expect(self, pattern: str, timeout: float = 20.0) -> int:
        """Reads until `pattern` (a regex) appears after what was already matched; its offset."""
        deadline = time.monotonic() + timeout
        start = len(self.text)
        while time.monotonic() < deadline:
            found = re.compile(pattern).search(self.text, max(start - 4096, 0))
            if found:
                return found.start()
            if not self._read(0.1):
                break
        raise AssertionError(f"{pattern!r} not seen within {timeout:g} s; screen output:\n{self.text[-3000:]}")

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.05):  # what it wrote last
                    if not select.select([self.fd], [], [], 0)[0]:
                        break
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        signals = self._signal_masks()
        os.kill(self.pid, signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack goes to the screen
        time.sleep(0.5)
        while self._read(0.05) and select.select([self.fd], [], [], 0)[0]:
            pass
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"still running after {timeout:g} s ({signals}); screen output:\n{self.text[-6000:]}")

    def threads_that_can_take(self, number: int) -> list[str]:
        """The names of the process's threads that do not block signal `number`: the kernel hands a
        process-directed signal to any of them, and Python runs the handler in the main thread only."""
        names = []
        for thread in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                fields = dict(line.split(":\t", 1) for line in (thread / "status").read_text().splitlines())
            except OSError:
                continue  # ended meanwhile
            if not int(fields["SigBlk"], 16) & (1 << (number - 1)):
                names.append("main" if thread.name == str(self.pid) else fields["Name"])
        return sorted(names)

    def _signal_masks(self) -> str:
        """Whether SIGINT could reach the process at all (blocked or ignored masks, as the kernel sees)."""
        try:
            lines = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        except OSError:
            return "no /proc status"
        parent = (f"test process: SIGINT handler {signal.getsignal(signal.SIGINT)!r}, "
                  f"blocked {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))}; plugin: ")
        wanted = ("State", "SigBlk", "SigIgn", "SigCgt", "ShdPnd", "SigPnd")
        return parent + ", ".join(line for line in lines if line.startswith(wanted))
