"""Runs every benchmark, each in its own process with its own API emulator and operator, then
prints a summary with one line per target. `make bench` runs this.

Figures only: a missed target is reported as OVER, never as a failure. The exit status is
non-zero only when a benchmark could not run (an error or its deadline).
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchkit.cli import exit_on_sigterm
from benchkit.report import RULE, Result, read_json

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("startup_latency.py", "stage_overhead.py", "wide_stage.py", "status_writes.py", "plugin_startup.py",
              "ec2_provisioning.py", "admission_cost.py")
BENCHMARK_TIMEOUT_SECONDS = 150.0  # each takes 5-10 s on an idle 2-core machine; this catches a hang
STOP_GRACE_SECONDS = 30.0  # a benchmark told to stop unwinds (operator, emulator, watch) within about 20 s
GIT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    script: str
    seconds: float
    result: Result | None = None
    error: str = ""


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets the benchmark clean up; its whole process group is killed if it does not."""
    process.terminate()
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only its operator and emulator are in it
        process.wait(STOP_GRACE_SECONDS)


def _run_one(script: str, workdir: Path) -> Outcome:
    out = workdir / f"{script}.json"
    began = time.monotonic()
    # A session of its own, so that a hung benchmark can be killed with every process it started.
    process = subprocess.Popen([sys.executable, str(HERE / script), "--json", str(out)], start_new_session=True)
    try:
        code = process.wait(BENCHMARK_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _stop(process)
        return Outcome(script, time.monotonic() - began, error=f"no result within {BENCHMARK_TIMEOUT_SECONDS:g} s")
    except BaseException:  # Ctrl-C or SIGTERM reach only run_all (the benchmark has its own session)
        _stop(process)
        raise
    seconds = time.monotonic() - began
    if code != 0 or not out.exists():
        return Outcome(script, seconds, error=f"exited with status {code}")
    return Outcome(script, seconds, result=read_json(out))


def _revision() -> str:
    try:
        found = subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"], capture_output=True,
                               text=True, timeout=GIT_TIMEOUT_SECONDS, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip()


def _machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average {load}, "
            f"Python {platform.python_version()}, revision {_revision()}")


def _summary(outcomes: list[Outcome]) -> list[str]:
    rows = [("", "target", "measured", "target", "verdict")]
    for outcome in outcomes:
        if outcome.result is None:
            rows.append((outcome.script, "(did not run)", outcome.error, "", "ERROR"))
            continue
        for check in outcome.result.checks:
            rows.append((f"({outcome.result.key})", check.label, f"{check.value:.2f} {check.unit}", check.target,
                         check.verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def main() -> int:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    print(f"kube-dtk benchmarks: {_machine()}", flush=True)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtk-bench-results-") as tmp:
        outcomes = [_run_one(script, Path(tmp)) for script in BENCHMARKS]
    print(f"\n{RULE}\nSUMMARY ({time.monotonic() - began:.1f} s in all; load average now "
          f"{os.getloadavg()[0]:.2f})\n{RULE}")
    print("\n".join(_summary(outcomes)))
    return 1 if any(o.result is None for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
