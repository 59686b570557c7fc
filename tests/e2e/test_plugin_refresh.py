"""`kubectl dtk task-status --wait`: a live view on a real pseudo-terminal, progress lines and
heartbeats off one. The Tasks run under the real operator and advance when the test opens gates."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from support.cluster import Kube
from support.gates import at_row, deploy_gated, open_gates, spawn
from support.manifests import instance, task
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
    # Only the main thread can take Ctrl-C: taken by rich's repaint thread, it once waited for the
    # quiet watch's window (25 s) to end before the main thread saw it.
    assert left.threads_that_can_take(signal.SIGINT) == ["main"]
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


def test_on_a_terminal_member_rows_of_a_sharded_task_are_at_most_moments_old_when_the_task_goes_quiet(
        kube: Kube, tmp_path: Path) -> None:
    """A big Task's member rows live in its TaskShards (SPEC 11); the live view lists them again at
    most once a second while the Task changes. When the last change came within that second and
    then nothing changes (one slow member left), the rows must still be shown: not 25 s later,
    when the watch window ends. Written here as the operator writes them: the shard, then the Task."""
    members = 30
    kube.create(r.INSTANCE_PLURAL, instance("follow1", "absent"))
    task_body = task("follow1-1", "follow1", "create")
    uid = kube.create(r.TASK_PLURAL, task_body)["metadata"]["uid"]

    def member(n: int, status: str) -> dict[str, Any]:
        return {"index": f"1.1.{n}", "kind": "configure_node", "name": "configure_node", "node": f"m:{n}",
                "status": status}

    def write(done: int) -> None:
        rows = [member(n, "succeeded" if n <= done else "executing") for n in range(1, members + 1)]
        group = {"index": "1.1", "kind": "configure_nodegroup", "name": "configure_nodegroup", "node": "m",
                 "status": "executing"}
        kube.patch(r.SHARD_PLURAL, "follow1-1-1-0", {"steps": [group, *rows]})
        kube.patch_status(r.TASK_PLURAL, "follow1-1", {"progress": {"completed": done, "total": members}})

    kube.create(r.SHARD_PLURAL, {
        "apiVersion": r.API_VERSION, "kind": r.SHARD_KIND,
        "metadata": {"name": "follow1-1-1-0", "labels": {r.TASK_LABEL: "follow1-1"},
                     "ownerReferences": [{"apiVersion": r.API_VERSION, "kind": r.TASK_KIND, "name": "follow1-1",
                                          "uid": uid, "controller": True}]},
        "taskRef": {"name": "follow1-1"}, "stage": "1", "steps": []})
    kube.patch_status(r.TASK_PLURAL, "follow1-1", {
        "state": "executing", "shards": 1, "startedAt": "2026-12-05T10:00:00Z",
        "steps": [{"index": "", "kind": "task", "name": "assembly_converge", "status": "executing"},
                  {"index": "1", "kind": "stage", "name": "base", "status": "executing"}]})
    write(0)

    screen = Terminal(kube, "task-status", "follow1", "--wait", "--task", "follow1-1")
    try:
        screen.expect(row(f"1.1.{members} configure_node", "executing"))
        time.sleep(1.2)  # past the view's one second between two lists of the shards
        write(1)  # listed at once
        screen.expect(row("1.1.1 configure_node", "succeeded"))
        write(members - 1)  # within that second: the Task changed, its new rows not listed yet
        # ... and then nothing changes: the member rows must come all the same, within moments
        screen.expect(row(f"1.1.{members - 1} configure_node", "succeeded"), timeout=10)
    finally:
        screen.send(b"\x03")
        screen.wait(timeout=10)
