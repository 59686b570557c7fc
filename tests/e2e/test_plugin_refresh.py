"""`kubectl dtk task-status --wait`: a live view on a real pseudo-terminal, progress lines and
heartbeats off one. The Tasks run under the real operator and advance when the test opens gates."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

from support.cluster import Kube
from support.gates import at_row, deploy_gated, open_gates, spawn
from support.operator_process import OperatorProcess
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


def row(index_and_name: str, status: str) -> str:
    """A table line's start as the live frame draws it: `|   3 first gate   | executing |`."""
    return rf"\|\s+{re.escape(index_and_name)}\s+\| {status}"


def after_the_live_view(screen: Terminal) -> str:
    """What was printed once the live view had ended: the final table, normally."""
    return screen.text[screen.text.rindex("Watching task "):].split("\n", 1)[1]


def test_on_a_terminal_ctrl_c_leaves_quietly_and_the_table_is_redrawn_as_the_task_advances(
        kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    name, gates = deploy_gated(kube, tmp_path)
    left = Terminal(kube, "task-status", "app", "--wait", "--task", name)
    left.expect(row("3 first gate", "executing"))
    left.send(b"\x03")
    assert left.wait(timeout=5) == 130
    assert "Traceback" not in left.text and "KeyboardInterrupt" not in left.text
    assert left.text.rindex("\x1b[?25h") > left.text.rindex("\x1b[?25l")  # the cursor is back

    screen = Terminal(kube, "task-status", "app", "--wait", "--task", name)  # the run went on: watch again
    first = screen.expect(row("3 first gate", "executing"))
    screen.expect(f"Watching task '{name}': executing, 8/10 steps done, at 3 first gate; .* elapsed "
                  r"\(Ctrl-C to leave\)")
    open_gates(gates, 1)
    moved = screen.expect(row("4 second gate", "executing"))
    assert moved > first and re.search(row("3 first gate", "succeeded"), screen.text[first:])
    open_gates(gates, 2)
    assert screen.wait() == 0
    final = after_the_live_view(screen)
    assert re.search(row("assembly_converge", "succeeded"), final) and "16 rows in set" in final
    assert "ERRORS:" not in final and "Traceback" not in screen.text
    assert screen.text.rindex("\x1b[?25h") > screen.text.rindex("\x1b[?25l")


def test_on_a_terminal_a_failed_task_ends_with_its_legend_and_exit_1(
        kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    name, gates = deploy_gated(kube, tmp_path, fail=True)
    screen = Terminal(kube, "task-status", "app", "-m", "refresh", "--task", name)
    screen.expect(row("3 first gate", "executing"))
    open_gates(gates, 1, 2)
    assert screen.wait() == 1
    final = after_the_live_view(screen)
    assert re.search(row("assembly_converge", "failed"), final)
    assert "ERRORS:" in final and "[ 4.1 ]" in final and "disk full" in final


STAMP = r"^\[\d\d:\d\d:\d\d\] "
# Between two stages (the one that ended is stored before the next starts) no stage is running: no "at".
HEARTBEAT = STAMP + r"task \S+: still executing, \d+/10 steps done(, at \d \w+ gate)?$"


def next_change(process: subprocess.Popen[str], timeout: float = 20.0) -> str:
    """The next line that is not a heartbeat (heartbeats come every 0.3 s: readline never hangs)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not re.match(HEARTBEAT, line.rstrip("\n")):
            return line.rstrip("\n")
    raise AssertionError(f"only heartbeats for {timeout:g} s")


def test_off_a_terminal_progress_lines_and_heartbeats(kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    name, gates = deploy_gated(kube, tmp_path)
    at_row(kube, name, "3", "executing")
    env = {**os.environ, "DTK_HEARTBEAT_SECONDS": "0.3"}
    lines = spawn(kube, "task-status", "app", "--wait", "--task", name, env=env)
    as_json = spawn(kube, "task-status", "app", "--wait", "-o", "json", "--task", name, env=env)
    try:
        assert lines.stdout is not None
        assert re.match(STAMP + f"task {name}: executing, 8/10 steps done, at 3 first gate$", lines.stdout.readline())
        started = time.monotonic()
        for _ in range(3):  # a quiet run still speaks: every 0.3 s here, at most every 30 s by default
            assert re.match(HEARTBEAT, lines.stdout.readline().rstrip("\n"))
        assert time.monotonic() - started < 3.0
        open_gates(gates, 1)
        assert re.match(STAMP + r"3 first gate: succeeded \(\d+\.\ds\)$", next_change(lines))
        assert re.match(STAMP + r"4 second gate: executing$", next_change(lines))
        open_gates(gates, 2)
        assert re.match(STAMP + r"4 second gate: succeeded \(\d+\.\ds\)$", next_change(lines))
        assert re.match(STAMP + r"assembly_converge: succeeded \(\d+\.\ds\)$", next_change(lines))
        lines.wait(timeout=20)  # what is left is small: it fits in the pipe, nothing blocks on it
        rest = lines.stdout.read()  # (not communicate(): readline() may hold some of it already)
        printed, progress = as_json.communicate(timeout=20)
    finally:
        lines.kill()
        as_json.kill()
    assert lines.returncode == 0 and as_json.returncode == 0
    assert rest.startswith("\n+---") and rest.rstrip().endswith("16 rows in set")  # then the final table
    assert json.loads(printed)["status"]["state"] == "succeeded"  # with -o json stdout is the object alone ...
    assert f"task {name}: executing, 8/10 steps done" in progress  # ... and the progress goes to stderr
