"""(g) Scale: 1,000 and 5,000 members, the sharded code ("after") against bd33bc9 ("before").

Issue 10. For each size, the converge of a group of N members with one stage (`true` on each,
local target) runs on both revisions in turn, each with a fresh API emulator, the revision's own
operator and CRDs, and the counting proxy between the operator and the emulator
(benchkit.write_proxy). Figures: the Task's wall time, the largest object stored (watched),
the bytes of every status write the operator sent (median, max, per kind), the writes per row,
and `kubectl dtk task-status` (the real executable, the revision's code) against
`kubectl get task -o yaml`. The "before" code may not finish at 5,000 members: its run ends at
a deadline and reports how far it got.

Takes 15-25 min on a 2-core machine, far over run_all's per-benchmark timeout: run it alone,
`.venv/bin/python bench/scale.py` (`--members 1000` for a short run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchkit.cli import exit_on_sigterm
from benchkit.report import RULE, Result, render, write_json
from benchkit.revisions import Revision, export
from benchkit.scale_figures import Sample, Timings
from benchkit.scale_report import result_of
from benchkit.scale_run import INSTANCE, converge, load_average

from dtk_api import resources as r

PLUGIN = Path(sys.executable).parent / "kubectl-dtk"
KUBECTL = "kubectl"
BEFORE = "bd33bc9"  # the last commit with every row in the Task and every node in the instance
RUNS, WARMUPS = 5, 1
COMMAND_TIMEOUT_SECONDS = 120.0
AFTER_DEADLINE_SECONDS = 600.0  # 5,000 members converge in about 90 s on an idle 2-core machine
BEFORE_DEADLINE_SECONDS = {1000: 600.0, 5000: 900.0}  # before: about 600 s at 5,000 (commit 53f5ad4)


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    # Output to pipes, as a script reading it would; read whole, so the command never waits on us.
    done = subprocess.run(command, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS, env={**os.environ, **env})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: the task failed, still a table printed
        raise RuntimeError(f"{command[:3]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def _timings(rev: Revision, kubeconfig: Path, namespace: str, task: str, sharded: bool) -> Timings:
    """Medians of alternating runs, so that a busy moment of the machine hits each command alike."""
    common = ["--kubeconfig", str(kubeconfig), "-n", namespace]
    commands = {"plugin": [str(PLUGIN), "task-status", INSTANCE, *common],
                "task": [KUBECTL, "get", r.TASK_PLURAL, task, "-o", "yaml", *common]}
    if sharded:
        commands["shards"] = [KUBECTL, "get", r.SHARD_PLURAL, "-l", f"{r.TASK_LABEL}={task}", "-o", "yaml", *common]
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_ in range(WARMUPS + RUNS):
        for label, command in commands.items():
            elapsed = _timed(command, rev.env if label == "plugin" else {})
            if round_ >= WARMUPS:
                times[label].append(elapsed)
    med = {label: statistics.median(values) for label, values in times.items()}
    return Timings(plugin=med["plugin"], kubectl_task=med["task"], kubectl_shards=med.get("shards"))


def _keep(keep: Path | None, rev: Revision, members: int, workdir: Path, task: Mapping[str, Any]) -> None:
    """The run's evidence: the proxy's write log, the operator's log, the Task as it ended (rows left out)."""
    if keep is None:
        return
    into = keep / f"{rev.label}-{members}"
    into.mkdir(parents=True, exist_ok=True)
    for name in ("writes.jsonl", "operator.log"):
        if (workdir / name).exists():
            shutil.copy(workdir / name, into / name)
    status = dict(task.get("status") or {})
    status["steps"] = f"({len(status.get('steps') or [])} rows left out)"
    (into / "task.json").write_text(json.dumps({**task, "status": status}, indent=1))


def _measure(rev: Revision, members: int, deadline: float, keep: Path | None) -> Sample:
    namespace = f"bench-scale-{rev.label}"
    print(f"--- {rev.label} ({rev.short}), {members} members: converging (deadline {deadline:g} s; "
          f"load average {load_average()})", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"dtk-bench-scale-{rev.label}-") as tmp, ExitStack() as cleanup:
        done, kubeconfig = converge(rev, members=members, deadline=deadline, workdir=Path(tmp), namespace=namespace,
                                    cleanup=cleanup)
        timings = None
        name = str((done.task.get("metadata") or {}).get("name") or "")
        if name:
            print(f"--- {rev.label}, {members} members: timing task-status and kubectl", flush=True)
            sharded = bool((done.task.get("status") or {}).get("shards"))
            timings = _timings(rev, kubeconfig, namespace, name, sharded)
        if done.ended_seen is None:
            print(f"--- the operator's log ends with:\n{done.operator_log_tail}", flush=True)
        _keep(keep, rev, members, Path(tmp), done.task)
    sample = Sample.of(rev.label, rev.commit, members, done, timings, load_average())
    print(f"--- {rev.label}, {members} members: {sample.state}; load average {sample.load}", flush=True)
    return sample


def benchmark(members: list[int], after_rev: str, before_rev: str, only: str | None, keep: Path | None) -> Result:
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="dtk-bench-scale-code-") as code:
        revisions = [export("after", after_rev, Path(code)), export("before", before_rev, Path(code))]
        for count in members:
            for rev in revisions:
                if only in (None, rev.label):
                    deadline = AFTER_DEADLINE_SECONDS if rev.label == "after" else BEFORE_DEADLINE_SECONDS.get(
                        count, max(BEFORE_DEADLINE_SECONDS.values()))
                    samples.append(_measure(rev, count, deadline, keep))
    return result_of(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--after", default="HEAD", help="the revision measured as 'after' (default: HEAD)")
    parser.add_argument("--before", default=BEFORE, help=f"the revision measured as 'before' (default: {BEFORE})")
    parser.add_argument("--only", choices=("before", "after"), help="run one side only")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    parser.add_argument("--keep", type=Path, help="keep each run's write log, operator log and final Task here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    print(f"(g) scale: {os.cpu_count()} cores, load average {load_average()}", flush=True)
    result = benchmark(args.members, args.after, args.before, args.only, args.keep)
    print(f"{RULE}\n{render(result)}", flush=True)
    if args.json is not None:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
