"""(e) `kubectl dtk task-status` on a 1,000-row Task against `kubectl get task -o yaml`, and
`kubectl dtk ls` on 200 instances against `kubectl get serviceinstances`.

Both sides are whole processes, run alternately against the same API emulator in the same run, so
each ratio compares like with like: kubectl (a Go binary) fetching and printing the objects, and
our plugin starting Python, fetching the same objects and drawing DTK's table. Also the time of a
Tab (`kubectl_complete-dtk`, with and without a request to the cluster), and the render time of
the task table alone, in this process. No operator runs: the objects are written once, by hand.

`DTK_BENCH_PLUGIN` names another `kubectl-dtk` executable to measure (an older revision's, to
compare against), in place of this virtualenv's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchkit.cli import run
from benchkit.kube import Kube
from benchkit.report import Check, Figure, Result, ms
from benchkit.stack import start_emulator
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from dtk_api import resources as r
from dtk_api.task_wire import to_status

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "plugin"))
from seed_task import seed_task

from kubectl_dtk.views.table import render_task_table

PLUGIN = Path(os.environ.get("DTK_BENCH_PLUGIN") or Path(sys.executable).parent / "kubectl-dtk")
COMPLETION = Path(sys.executable).parent / "kubectl_complete-dtk"
SLAVES = 195  # the seed's spark Task with 195 slaves has 1,002 rows
LISTED_INSTANCES = 200
RUNS, WARMUPS = 10, 2
RENDERS = 30
TARGET_RATIO = 1.5
TAB_TARGET_MS = 200.0  # what a shell user notices
COMMAND_TIMEOUT_SECONDS = 30.0


def _instance(name: str) -> dict[str, object]:
    return {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "metadata": {"name": name},
            "spec": {"assemblyRef": {"name": "spark-cluster"}, "targetRef": {"name": "vpc-us-east-1"}}}


def _seed_instances(kubeconfig: Path, namespace: str) -> None:
    """The instances `ls` lists (no status: what the table shows of each costs the same)."""
    kube = Kube(kubeconfig, namespace)
    kube.create_namespace()
    for number in range(1, LISTED_INSTANCES + 1):
        kube.create(r.INSTANCE_PLURAL, _instance(f"spark-cluster{number}"))


def _seed_objects(kubeconfig: Path, namespace: str) -> tuple[str, int]:
    """An instance and its 1,000-row Task, status written through the status subresource."""
    kube = Kube(kubeconfig, namespace)
    kube.create_namespace()
    kube.create(r.INSTANCE_PLURAL, _instance("spark-cluster1"))
    name = "spark-cluster1-1"
    kube.create(r.TASK_PLURAL, {"apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
                                "metadata": {"name": name, "labels": {r.INSTANCE_LABEL: "spark-cluster1"}},
                                "spec": {"serviceInstanceRef": {"name": "spark-cluster1"}, "workflow": "create"}})
    status = dict(to_status(seed_task(None, slaves=SLAVES)))
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
    api.patch_namespaced_custom_object_status(r.GROUP, r.VERSION, namespace, r.TASK_PLURAL, name, {"status": status})
    return name, len(status["steps"])


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def _alternate(commands: dict[str, list[str]]) -> dict[str, list[float]]:
    """Runs the commands in turn, so a slow moment of the machine hits both alike."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_ in range(WARMUPS + RUNS):
        for label, command in commands.items():
            elapsed = _timed(command)
            if round_ >= WARMUPS:
                times[label].append(elapsed)
    return times


def _render_seconds() -> tuple[float, int]:
    status = seed_task(None, slaves=SLAVES)
    samples = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        render_task_table(status)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), len(status.steps)


def _result(times: dict[str, list[float]], rows: int, render: float) -> Result:
    median = {label: statistics.median(samples) for label, samples in times.items()}
    status_ratio = median["plugin"] / median["kubectl"]
    ls_ratio = median["ls"] / median["kubectl-ls"]
    figures = (
        Figure("Task rows", str(rows)),
        Figure("kubectl dtk task-status (median)", ms(median["plugin"])),
        Figure("kubectl get task -o yaml (median)", ms(median["kubectl"])),
        Figure("ratio task-status / kubectl", f"{status_ratio:.2f}"),
        Figure(f"kubectl dtk ls, {LISTED_INSTANCES} instances (median)", ms(median["ls"])),
        Figure("kubectl get serviceinstances (median)", ms(median["kubectl-ls"])),
        Figure("ratio ls / kubectl", f"{ls_ratio:.2f}"),
        Figure("Tab: kubectl_complete-dtk task-status '' (median)", ms(median["complete-instances"])),
        Figure("Tab: kubectl_complete-dtk '' (no request)", ms(median["complete-commands"])),
        Figure("kubectl dtk --help (start-up alone)", ms(median["help"])),
        Figure("render of the table alone", ms(render)),
    )
    checks = (Check("task-status / kubectl get -o yaml", status_ratio, TARGET_RATIO, "x", inclusive=True),
              Check("ls / kubectl get serviceinstances", ls_ratio, TARGET_RATIO, "x", inclusive=True),
              Check("a Tab that asks the cluster", median["complete-instances"] * 1000, TAB_TARGET_MS, "ms"))
    notes = (f"medians of {RUNS} alternating runs after {WARMUPS} warm-ups, whole processes",
             f"plugin measured: {PLUGIN}")
    return Result(key="e", title="kubectl dtk task-status on a 1,000-row Task, ls on 200 instances, a Tab",
                  figures=figures, checks=checks, notes=notes)


def benchmark() -> Result:
    with tempfile.TemporaryDirectory(prefix="dtk-bench-plugin-") as tmp, ExitStack() as cleanup:
        kubeconfig = start_emulator(Path(tmp), cleanup)
        namespace, listed = "bench-plugin", "bench-plugin-ls"
        task, rows = _seed_objects(kubeconfig, namespace)
        _seed_instances(kubeconfig, listed)
        common = ["--kubeconfig", str(kubeconfig), "-n", namespace]
        many = ["--kubeconfig", str(kubeconfig), "-n", listed]
        times = _alternate({
            "plugin": [str(PLUGIN), "task-status", "spark-cluster1", *common],
            "kubectl": ["kubectl", "get", "task", task, "-o", "yaml", *common],
            "ls": [str(PLUGIN), "ls", *many],
            "kubectl-ls": ["kubectl", "get", r.INSTANCE_PLURAL, *many],
            "complete-instances": [str(COMPLETION), "task-status", *common, ""],
            "complete-commands": [str(COMPLETION), ""],
            "help": [str(PLUGIN), "--help"],
        })
    render, _ = _render_seconds()
    return _result(times, rows, render)


if __name__ == "__main__":
    run(benchmark, __doc__)
