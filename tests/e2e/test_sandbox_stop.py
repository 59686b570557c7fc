"""Stopping `dtk-operator sandbox` with SIGTERM or Ctrl-C (SIGINT), whenever the signal comes and however
many come: it stops within seconds, says nothing alarming, and leaves its folder to the next sandbox.

A sandbox once hung forever when stopped just after it started (CI saw it as a 15 s timeout): its
handler took a lock the main thread could hold, and its main thread slept where a signal caught by
another thread never woke it. Later, a second signal during the stop killed it half way. Signals sent
every 2 ms until it exits find such windows on a busy machine."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from support.manifests import assembly, component, instance
from support.signals import signal_until_exit

OPERATOR = Path(sys.executable).parent / "dtk-operator"
START_TIMEOUT_SECONDS = 60.0  # up and serving in 2-5 s; more on a loaded machine
STOP_TIMEOUT_SECONDS = 15.0  # a stop takes about 0.6 s (the EC2 emulator's shutdown poll is most of it)
ROUNDS = 4
INTERRUPTED_BY_SIGINT = 128 + signal.SIGINT


def start(directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(OPERATOR), "sandbox", "--dir", str(directory), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def first_line(process: subprocess.Popen[str]) -> str:
    """Its first stdout line, or a failure after the start timeout (readline alone never gives up)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
    assert ready, f"no output within {START_TIMEOUT_SECONDS:g} s"
    return process.stdout.readline()  # the line is written and flushed at once


def wait_for(condition: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{condition}: not within {timeout:g} s"
        time.sleep(0.01)


def stopped_by_signals(process: subprocess.Popen[str], number: int, directory: Path) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) after signals every 2 ms until it exits; a sandbox still running
    after the stop timeout is killed and fails the test with the end of its operator log."""
    stopped = signal_until_exit(process, number, STOP_TIMEOUT_SECONDS)
    out, err = process.communicate()
    if stopped.code is None:
        log = directory / "operator.log"
        tail = log.read_text()[-3000:] if log.exists() else "(no operator log)"
        raise AssertionError(f"the sandbox did not stop within {STOP_TIMEOUT_SECONDS:g} s of {stopped.signals} "
                             f"signals; its log ends:\n{tail}")
    print(f"\nstopped {stopped.seconds:.2f} s after the first of {stopped.signals} signals")
    return stopped.code, out, err


def test_signals_until_it_exits_just_after_it_started_stop_a_sandbox_with_exit_0(tmp_path: Path) -> None:
    directory = tmp_path / "sandbox"
    for round_number in range(ROUNDS):
        process = start(directory)
        assert first_line(process) == f"export KUBECONFIG={directory / 'kubeconfig'}\n"
        number = signal.SIGTERM if round_number % 2 == 0 else signal.SIGINT
        code, _, err = stopped_by_signals(process, number, directory)
        assert code == 0, err[-3000:]
        said = [f"# operator log: {directory / 'operator.log'}", "# sandbox running; Ctrl-C stops it"]
        assert err.splitlines() == said[:len(err.splitlines())], err[-3000:]  # its own lines, so far as it got


def test_a_sandbox_stopped_while_it_starts_stops_what_it_started_and_frees_its_folder(tmp_path: Path) -> None:
    directory = tmp_path / "sandbox"
    process = start(directory)
    lock = directory / "sandbox.lock"
    # Its pid in the lock file: it holds the folder and is starting the API, EC2 and the operator.
    wait_for("the sandbox takes its folder", lambda: lock.exists() and lock.read_text() == f"{process.pid}\n",
             START_TIMEOUT_SECONDS)
    code, out, err = stopped_by_signals(process, signal.SIGTERM, directory)
    assert code == 0 and "Traceback" not in err, err[-3000:]
    assert out in ("", f"export KUBECONFIG={directory / 'kubeconfig'}\n")  # stopped before or after: no half line
    again = start(directory)  # the folder is free, not held by a half-stopped process
    assert first_line(again) == f"export KUBECONFIG={directory / 'kubeconfig'}\n"
    assert stopped_by_signals(again, signal.SIGTERM, directory)[0] == 0


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for a parent that is not ours to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_ctrl_c_during_a_demo_kills_its_steps_and_exits_130_with_one_line(tmp_path: Path) -> None:
    directory, pid_file = tmp_path / "sandbox", tmp_path / "step.pid"
    demo = tmp_path / "demo.yaml"
    demo.write_text(yaml.safe_dump_all([
        assembly("slow", components=[component("c", f"echo $$ > {pid_file}; exec sleep 300")], nodes={"n": ["c"]},
                 stages=[{"name": "configure", "components": ["c"]}]),
        instance("slow1", "slow"),
    ]))
    process = start(directory, "--demo", str(demo))
    wait_for("the step runs", lambda: pid_file.exists() and pid_file.read_text().strip().isdigit(),
             START_TIMEOUT_SECONDS)
    step = int(pid_file.read_text())
    assert alive(step)
    code, out, err = stopped_by_signals(process, signal.SIGINT, directory)  # Ctrl-C, pressed again and again
    assert code == INTERRUPTED_BY_SIGINT, err[-3000:]
    assert err.splitlines()[-1] == "dtk-operator sandbox: SIGINT received; the demo did not finish, the sandbox stopped"
    assert "Traceback" not in err
    assert out.startswith("export KUBECONFIG=")
    wait_for("the step is killed", lambda: not alive(step), STOP_TIMEOUT_SECONDS)
