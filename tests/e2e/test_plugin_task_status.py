"""`kubectl dtk task-status` through the real executable: snapshot, lookups, stream, timeouts.

The Tasks run under the real operator; their stages wait on gate files the test creates, so a
test decides when a run moves on instead of sleeping and hoping.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from dtk_api import resources as r
from dtk_api.task_wire import to_status
from plugin.seed_task import clock, seed_task
from support.cluster import Kube
from support.gates import at_row, deploy_gated, open_gates, read_until, spawn
from support.manifests import instance, steps_of, task
from support.operator_process import OperatorProcess
from support.plugin import dtk

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
# ---- snapshot ---------------------------------------------------------------------------------


def test_snapshot_during_and_after_a_run_and_timeouts_while_it_runs(
        kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    name, gates = deploy_gated(kube, tmp_path)
    at_row(kube, name, "3", "executing")
    during = dtk(kube.kubeconfig, kube.namespace, "task-status", "app")
    assert during.returncode == 0, during.stderr
    lines = during.stdout.splitlines()
    assert lines[3].startswith("| assembly_converge ") and "| executing |" in lines[3]
    assert any(line.startswith("|   2 quick ") and "| succeeded |" in line for line in lines)
    assert any(line.startswith("|   3 first gate ") and "| executing |" in line for line in lines)
    assert any(line.startswith("|       2.1.2 configure_node ") and "| workers:2 " in line for line in lines)
    assert lines[-1] == f"{len(lines) - 5} rows in set" and "ERRORS:" not in during.stdout

    summarized = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "-s")
    assert re.search(r"^\|     2\.1 configure_nodegroup +\| succeeded\(2\) +\| workers +\|", summarized.stdout, re.M)
    assert "2.1.1" not in summarized.stdout  # the members are folded into their group row

    chosen = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "--task", name)
    assert chosen.returncode == 0 and chosen.stdout == during.stdout

    as_json = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "-o", "json")
    body = json.loads(as_json.stdout)
    assert body["kind"] == "Task" and body["metadata"]["name"] == name
    assert body["status"]["state"] == "executing"

    for mode in (["-m", "stream"], ["--wait"]):  # the run is held at its gate: waiting modes give up
        started = time.monotonic()
        waited = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", *mode, "--timeout", "1", "--task", name)
        assert waited.returncode == 3, (mode, waited.stderr)
        assert f"task {name} did not finish within 1 s" in waited.stderr
        assert time.monotonic() - started < 10

    kube.create(r.TASK_PLURAL, task("queued", "app", "again"))  # waits for the running one
    kube.task_when("queued", lambda t: bool((t.get("status") or {}).get("message")), what="queued to wait")
    waiting = f"task queued is pending: waiting for task {name} to finish"
    queued = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "--task", "queued")
    assert queued.returncode == 0 and queued.stdout.rstrip().endswith(waiting)
    streamed = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "--task", "queued", "-m", "stream",
                   "--timeout", "1")
    assert streamed.returncode == 3 and streamed.stdout == "" and waiting in streamed.stderr

    open_gates(gates, 1, 2)
    kube.finished_task(name)
    after = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "--task", name)
    assert after.returncode == 0, after.stderr
    rows = after.stdout.splitlines()[3:-2]
    assert all("| succeeded |" in row for row in rows)
    assert re.match(r"\| assembly_converge +\| succeeded \| +\| \d+\.\ds +\| [\d:/ ]{17} \| [\d:/ ]{17} \|$", rows[0])
    kube.finished_task("queued")
    latest = dtk(kube.kubeconfig, kube.namespace, "task-status", "app")  # now the queued one, run after
    assert latest.returncode == 0 and latest.stdout.splitlines()[3].startswith("| again ")


def test_snapshot_of_a_failed_task_exits_1_with_the_errors_legend(
        kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    name, gates = deploy_gated(kube, tmp_path, fail=True)
    open_gates(gates, 1, 2)
    assert kube.finished_task(name)["status"]["state"] == "failed"
    shown = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "--task", name)
    assert shown.returncode == 1, shown.stdout + shown.stderr
    table, _, legend = shown.stdout.partition("\nERRORS:\n")
    assert any(line.startswith("|     4.1 configure_node ") and "| failed " in line
               for line in table.splitlines()), shown.stdout
    assert "[ 4.1 ] [USER ERROR]" in legend and "disk full" in legend
    as_yaml = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "-o", "yaml", "--task", name)
    assert as_yaml.returncode == 1 and "state: failed" in as_yaml.stdout


def seed_table(number: str) -> str:
    """The first task-status table of a seed file, verbatim."""
    text = next(SEEDS.glob(f"{number}_*.txt")).read_text()
    start = text.index("+---")
    return text[start:text.index("```", start)]


def write_seed_task(kube: Kube) -> None:
    """No operator: the seed's Task in the middle of stage 5 (tests/plugin/seed_task.py), written
    into the API as the operator would have written it."""
    kube.create(r.INSTANCE_PLURAL, instance("spark-cluster1", "spark", staged=True))
    kube.create(r.TASK_PLURAL, task("spark-cluster1-1", "spark-cluster1", "create"))
    status = dict(to_status(seed_task(clock("17:18:45.000"))))
    kube.custom.patch_namespaced_custom_object_status(r.GROUP, r.VERSION, kube.namespace, r.TASK_PLURAL,
                                                      "spark-cluster1-1", {"status": status})


def test_snapshot_prints_the_seed_table_byte_for_byte(kube: Kube) -> None:
    write_seed_task(kube)
    shown = dtk(kube.kubeconfig, kube.namespace, "task-status", "spark-cluster1")
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout == seed_table("000")


# Every mode but the live view, in one process; then which heavy libraries it had to import.
IMPORT_PROBE = """
import json, sys
from kubectl_dtk.cli import main
modes = ([], ["-s"], ["-o", "yaml"], ["-m", "stream", "--timeout", "1"], ["--wait", "--timeout", "1"])
codes = [main(["task-status", "spark-cluster1", *mode, *sys.argv[1:]]) for mode in modes]
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"kopf", "kubernetes", "boto3", "botocore", "rich"})
print(json.dumps({"codes": codes, "heavy": heavy}), file=sys.stderr)
"""


def test_no_heavy_library_is_imported_outside_the_live_view(kube: Kube) -> None:
    """kopf, kubernetes and boto3 cost a second of start-up; rich is for the terminal view only."""
    write_seed_task(kube)
    probe = subprocess.run([sys.executable, "-c", IMPORT_PROBE, "--kubeconfig", str(kube.kubeconfig),
                            "-n", kube.namespace], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    found = json.loads(probe.stderr.strip().splitlines()[-1])
    assert found == {"codes": [0, 0, 0, 3, 3], "heavy": []}, probe.stderr


# ---- lookups and usage ------------------------------------------------------------------------


def test_missing_objects_exit_4_and_bad_flags_exit_2(kube: Kube) -> None:
    missing = dtk(kube.kubeconfig, kube.namespace, "task-status", "nope")
    assert missing.returncode == 4 and 'service instance "nope" not found' in missing.stderr
    assert missing.stdout == ""
    kube.create(r.INSTANCE_PLURAL, instance("idle", "whatever", staged=True))
    kube.create(r.INSTANCE_PLURAL, instance("other", "whatever", staged=True))
    no_task = dtk(kube.kubeconfig, kube.namespace, "task-status", "idle")
    assert no_task.returncode == 4 and "No tasks found for service instance (idle)" in no_task.stderr
    kube.create(r.TASK_PLURAL, task("other-1", "other", "create"))
    foreign = dtk(kube.kubeconfig, kube.namespace, "task-status", "idle", "--task", "other-1")
    assert foreign.returncode == 4 and "not a task of service instance" in foreign.stderr
    absent = dtk(kube.kubeconfig, kube.namespace, "task-status", "idle", "--task", "gone")
    assert absent.returncode == 4 and 'task "gone" not found' in absent.stderr
    for flags in (["--bogus"], ["-m", "sideways"], ["-m", "stream", "-s"], ["-m", "stream", "-o", "json"],
                  ["-o", "jsonl"], ["--wait", "-m", "stream"], ["--timeout", "5"], ["--wait", "--timeout", "-1"]):
        bad = dtk(kube.kubeconfig, kube.namespace, "task-status", "other", *flags)
        assert bad.returncode == 2, (flags, bad.stdout, bad.stderr)
        assert bad.stdout == "" and bad.stderr.strip(), flags


# ---- stream -----------------------------------------------------------------------------------


def test_stream_follows_a_run_from_its_start_then_replays_it(
        kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    name, gates = deploy_gated(kube, tmp_path)
    follower = spawn(kube, "task-status", "app", "-m", "stream", "--task", name)
    seen: list[str] = []
    try:
        read_until(follower, seen, "STAGE 3: first gate")
        read_until(follower, seen, "COMPONENT: web/gate1")
        # stage 3's start part is out while it still runs (its gate is closed): ends come later
        assert steps_of(kube.get(r.TASK_PLURAL, name) or {})["3"]["status"] == "executing"
        assert seen.count("STATUS: succeeded\n") == 2  # stages 1 and 2 ended
        open_gates(gates, 1, 2)
        rest, errors = follower.communicate(timeout=30)
    finally:
        follower.kill()
    live = "".join(seen) + rest
    assert follower.returncode == 0, errors
    assert live.startswith("========================= ") and " start 'assembly_converge' " in live.splitlines()[0]
    assert live.index("STAGE 3: first gate") < live.index("STAGE 4: second gate")
    assert live.rstrip("\n").splitlines()[-1].startswith("========================= end: 'assembly_converge' "
                                                         "(total duration: ")

    replay = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "-m", "stream", "--task", name)
    assert replay.returncode == 0 and replay.stdout == live  # after the end: the same text, replayed

    jsonl = dtk(kube.kubeconfig, kube.namespace, "task-status", "app", "-m", "stream", "-o", "jsonl", "--task", name)
    events = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert jsonl.returncode == 0 and all(e["version"] == 1 for e in events)
    assert [e["event"] for e in events][:2] == ["task_start", "stage_start"]
    assert events[-1]["event"] == "task_end" and events[-1]["state"] == "succeeded"
    assert [e["stage"] for e in events if e["event"] == "stage_end"] == ["1", "2", "3", "4"]
