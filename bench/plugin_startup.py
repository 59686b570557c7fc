"""(e) `kubectl dtk task-status` on a 1,000-row Task against `kubectl get task -o yaml`.

Both are whole processes, run alternately against the same API emulator in the same run, so the
ratio compares like with like: kubectl (a Go binary) fetching and printing the object, and our
plugin starting Python, fetching the same object and drawing DTK's table. Also the render time of
the table alone, in this process. No operator runs: the Task's status is written once, by hand.
"""

from __future__ import annotations

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

PLUGIN = Path(sys.executable).parent / "kubectl-dtk"
SLAVES = 195  # the seed's spark Task with 195 slaves has 1,002 rows
RUNS, WARMUPS = 10, 2
RENDERS = 30
TARGET_RATIO = 1.5
COMMAND_TIMEOUT_SECONDS = 30.0


def _seed_objects(kubeconfig: Path, namespace: str) -> tuple[str, int]:
    """An instance and its 1,000-row Task, status written through the status subresource."""
    kube = Kube(kubeconfig, namespace)
    kube.create_namespace()
    kube.create(r.INSTANCE_PLURAL, {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND,
                                    "metadata": {"name": "spark-cluster1"},
                                    "spec": {"assemblyRef": {"name": "spark-cluster"},
                                             "target": {"name": "vpc-us-east-1", "provider": "local"}}})
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
    plugin, kubectl, help_ = (statistics.median(times[k]) for k in ("plugin", "kubectl", "help"))
    ratio = plugin / kubectl
    figures = (
        Figure("Task rows", str(rows)),
        Figure("kubectl dtk task-status (median)", ms(plugin)),
        Figure("kubectl get task -o yaml (median)", ms(kubectl)),
        Figure("ratio plugin / kubectl", f"{ratio:.2f}"),
        Figure("kubectl dtk --help (start-up alone)", ms(help_)),
        Figure("render of the table alone", ms(render)),
    )
    checks = (Check("task-status / kubectl get -o yaml", ratio, TARGET_RATIO, "x", inclusive=True),)
    notes = (f"medians of {RUNS} alternating runs after {WARMUPS} warm-ups, whole processes",)
    return Result(key="e", title="kubectl dtk task-status on a 1,000-row Task", figures=figures, checks=checks,
                  notes=notes)


def benchmark() -> Result:
    with tempfile.TemporaryDirectory(prefix="dtk-bench-plugin-") as tmp, ExitStack() as cleanup:
        kubeconfig = start_emulator(Path(tmp), cleanup)
        namespace = "bench-plugin"
        task, rows = _seed_objects(kubeconfig, namespace)
        common = ["--kubeconfig", str(kubeconfig), "-n", namespace]
        times = _alternate({
            "plugin": [str(PLUGIN), "task-status", "spark-cluster1", *common],
            "kubectl": ["kubectl", "get", "task", task, "-o", "yaml", *common],
            "help": [str(PLUGIN), "--help"],
        })
    render, _ = _render_seconds()
    return _result(times, rows, render)


if __name__ == "__main__":
    run(benchmark, __doc__)
