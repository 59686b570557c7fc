"""`kubectl dtk task-status --wait`: a live view on a real pseudo-terminal, progress lines and
heartbeats off one. The Tasks run under the real operator and advance when the test opens gates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from support.cluster import Kube
from support.gates import at_row, deploy_gated, open_gates, spawn
from support.operator_process import OperatorProcess
from support.terminal import Terminal


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
