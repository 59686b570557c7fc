"""The operator SIGKILLed mid-Task and started again resumes; succeeded rows never run twice."""

from __future__ import annotations

import itertools
import os
import random
import signal
import time
from pathlib import Path

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, steps_of
from support.operator_process import OperatorProcess
from support.signals import signal_until_exit


def counting(name: str, extra: str = "") -> dict[str, object]:
    # Each run appends a line, so the file's line count is how many times the step ran.
    return component(name, f"echo run >> runs-{name}{extra}")


def test_sigkill_mid_task_then_restart_resumes_without_rerunning(kube: Kube, operator: OperatorProcess) -> None:
    comps = [counting("one"), counting("two"), counting("three", " && sleep 2"), counting("four")]
    stages = [{"name": c["name"], "components": [c["name"]]} for c in comps]
    kube.create(r.ASSEMBLY_PLURAL, assembly("counted", components=comps,
                                            nodes={"a": [c["name"] for c in comps]},
                                            groups={"g": (2, [c["name"] for c in comps])}, stages=stages))
    kube.create(r.INSTANCE_PLURAL, instance("k", "counted"))
    name = kube.first_task("k")
    kube.task_when(name, lambda t: steps_of(t).get("4", {}).get("status") == "executing", what="stage 4 to run")
    operator.kill()
    interrupted = kube.get(r.TASK_PLURAL, name)
    assert interrupted is not None and interrupted["status"]["state"] == "executing"
    assert steps_of(interrupted)["2"]["status"] == "succeeded"

    operator.start()  # a new process, same namespace and node directories
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert any("resumed" in m["text"] for m in done["status"]["messages"])
    node_dirs = sorted(p for p in operator.local_root.rglob("*") if p.is_dir() and p.parent.name == "k")
    assert [p.name for p in node_dirs] == ["a", "g_1", "g_2"]
    for node in node_dirs:
        for stage in ("one", "two"):
            assert _runs(node / f"runs-{stage}") == 1, f"{node.name}: {stage} ran again after the restart"
        assert _runs(node / "runs-three") >= 1 and _runs(node / "runs-four") == 1
    si = kube.get(r.INSTANCE_PLURAL, "k")
    assert si is not None and len(si["status"]["nodes"]) == 3  # no node was created twice


def _runs(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _processes_in(root: Path) -> list[int]:
    """Processes whose working directory is under `root`: the local target's steps (any version
    of the operator: found by where they run, not by any marker of ours)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if cwd.is_relative_to(root):
                found.append(int(entry.name))
    return found


def a_slow_step_running(kube: Kube, operator: OperatorProcess, instance_name: str) -> tuple[str, Path]:
    """A Task whose one step is running: (its name, the step's marks file). The step's real work
    happens in a grandchild of the step's shell, the case a parent-death signal on the shell alone
    would miss; it writes `started`, then `finished` 2 s later."""
    step = "echo started >> marks && sh -c 'sleep 2 && echo finished >> marks'"
    kube.create(r.ASSEMBLY_PLURAL, assembly("slow", components=[component("slow", step)],
                                            nodes={"a": ["slow"]}, stages=[{"name": "slow", "components": ["slow"]}]))
    kube.create(r.INSTANCE_PLURAL, instance(instance_name, "slow"))
    name = kube.first_task(instance_name)
    marks = operator.local_root / kube.namespace / instance_name / "a" / "marks"
    kube.wait("the step to start", lambda: marks.exists() and _processes_in(operator.local_root))
    return name, marks


def test_point_6_a_step_and_its_children_die_with_the_operator(kube: Kube, operator: OperatorProcess) -> None:
    name, marks = a_slow_step_running(kube, operator, "orphans")
    operator.kill()

    left = kube.wait("no step process left after the operator died",
                     lambda: not _processes_in(operator.local_root) and ["none"], timeout=5)
    assert left == ["none"]
    assert marks.read_text().splitlines() == ["started"], "an orphan finished the step after its operator died"

    operator.start()
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert marks.read_text().splitlines() == ["started", "started", "finished"]  # run again, once, to the end


def test_sigterms_until_it_exits_stop_the_operator_mid_step_with_exit_0_and_a_restart_finishes_the_task(
        kube: Kube, operator: OperatorProcess) -> None:
    """As a supervisor repeating SIGTERM would (a second signal once killed a stopping operator half
    way): it exits 0, its step killed, and the next operator runs the step again to its end."""
    name, marks = a_slow_step_running(kube, operator, "terms")
    assert operator.process is not None
    stopped = signal_until_exit(operator.process, signal.SIGTERM, deadline_seconds=20)
    operator.process = None
    assert stopped.code == 0, f"exit {stopped.code} after {stopped.signals} SIGTERMs; log:\n{operator.log_tail()}"
    assert "SIGTERM received; stopping kopf" in operator.log.read_text()
    assert not _processes_in(operator.local_root)
    assert marks.read_text().splitlines() == ["started"]
    operator.start()
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert marks.read_text().splitlines() == ["started", "started", "finished"]


def timed(name: str, seconds: float) -> dict[str, object]:
    """A step that logs its start time (ns), and at its end that start time again with the end
    time; the sleep is a child process, as real work is."""
    log = f"log-{name}"
    return component(name, f'started=$(date +%s%N) && echo "start $started" >> {log} && sleep {seconds} '
                           f'&& echo "end $started $(date +%s%N)" >> {log}')


class Runs:
    """Every run of every step, read back from the nodes' log files."""

    def __init__(self, root: Path) -> None:
        # (instance, node, component) -> {start ns: end ns, or 0 for a run that did not end}
        self.runs: dict[tuple[str, str, str], dict[int, int]] = {}
        for log in root.rglob("log-*"):
            key = (log.parent.parent.name, log.parent.name, log.name.removeprefix("log-"))
            for line in log.read_text().splitlines():
                what, started, *ended = line.split()
                self.runs.setdefault(key, {})[int(started)] = int(ended[0]) if what == "end" else 0

    def started(self, instance: str, component: str) -> bool:
        return any(i == instance and c == component for i, _, c in self.runs)


def test_twenty_sigkills_mid_step_leave_no_orphan_no_rerun_and_every_task_finishes(
    kube: Kube, operator: OperatorProcess
) -> None:
    """Issue 8 must-show, points 6 and 7: the operator SIGKILLed 20 times at varied moments."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    names = [f"c{i}" for i in range(8)]
    comps = [timed(n, rng.choice((0.2, 0.4, 0.7))) for n in names]
    kube.create(r.ASSEMBLY_PLURAL, assembly("crashy", components=comps, nodes={"a": names},
                                            groups={"g": (2, names)},
                                            stages=[{"name": n, "components": [n]} for n in names]))
    instances = ["x", "y"]
    for si in instances:
        kube.create(r.INSTANCE_PLURAL, instance(si, "crashy"))
    tasks = {si: kube.first_task(si) for si in instances}
    kills: list[tuple[int, int]] = []  # (signal sent, process gone), ns
    recorded: dict[tuple[str, str], int] = {}  # (task, row index) -> when first seen stored as succeeded
    for _ in range(20):
        time.sleep(rng.uniform(0.3, 2.5))
        sent = time.time_ns()
        operator.kill()
        kills.append((sent, time.time_ns()))
        runs = Runs(operator.local_root)
        for si, name in tasks.items():
            stored = kube.get(r.TASK_PLURAL, name) or {}
            rows = steps_of(stored)
            for index, row in rows.items():
                if row.get("status") == "succeeded":
                    recorded.setdefault((name, index), time.time_ns())
            # Point 7: a stage that has begun on some node proves the previous one is stored succeeded.
            stage_rows = [row for row in rows.values() if row["kind"] == "stage" and row["name"] in names]
            for before, after in itertools.pairwise(stage_rows):
                if runs.started(si, after["name"]):
                    assert before.get("status") == "succeeded", (
                        f"seed {seed}: {si}: stage '{after['name']}' started while the stored status had "
                        f"'{before['name']}' {before.get('status')!r}")
        operator.start()

    for name in tasks.values():
        done = kube.finished_task(name, timeout=120)
        assert done["status"]["state"] == "succeeded", (seed, done["status"].get("failure"))
    runs = Runs(operator.local_root)
    assert len(runs.runs) == len(instances) * 3 * len(names)  # every step of every node ran
    for key, ends in runs.runs.items():
        for start, end in ends.items():
            for sent, gone in kills:
                assert not (start < sent and end > gone), (
                    f"seed {seed}: {key}: a run started at {start} finished after its operator was killed")
    rows_of = {name: {row["index"]: row for row in (kube.get(r.TASK_PLURAL, name) or {})["status"]["steps"]}
               for name in tasks.values()}
    for (name, index), seen in recorded.items():
        row = rows_of[name][index]
        if row["kind"] != "configure_node":
            continue
        si = next(s for s, t in tasks.items() if t == name)
        stage = rows_of[name][index.partition(".")[0]]["name"]
        starts = runs.runs[(si, _folder(row["node"]), stage)]
        assert all(start < seen for start in starts), (
            f"seed {seed}: {si} row {index} ({row['node']}) ran again after it was stored succeeded")


def _folder(node: str) -> str:
    return node.replace(":", "_")


def test_point_7_a_stage_outcome_is_stored_before_the_next_stage_starts(kube: Kube, operator: OperatorProcess) -> None:
    # Quick stages: without a write between them, several finish within one coalesced write.
    names = [f"q{i}" for i in range(30)]
    comps = [component(n, f"echo ran >> log-{n}") for n in names]
    kube.create(r.ASSEMBLY_PLURAL, assembly("quick", components=comps, nodes={"a": names},
                                            stages=[{"name": n, "components": [n]} for n in names]))
    kube.create(r.INSTANCE_PLURAL, instance("fast", "quick"))
    name = kube.first_task("fast")
    node = operator.local_root / kube.namespace / "fast" / "a"
    kube.wait("stage q12 to start", lambda: (node / "log-q12").exists(), timeout=60)
    operator.kill()

    stored = {row["name"]: row.get("status") for row in steps_of(kube.get(r.TASK_PLURAL, name) or {}).values()
              if row["kind"] == "stage"}
    begun = [n for n in names if (node / f"log-{n}").exists()]
    unsaved = [n for n, after in itertools.pairwise(begun) if stored.get(n) != "succeeded"]
    assert not unsaved, f"stages {unsaved} ended and the next began, but the stored status says {stored}"

    operator.start()
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    again = [n for n in names if stored.get(n) == "succeeded" and _runs(node / f"log-{n}") != 1]
    assert not again, f"stages stored succeeded ran again after the restart: {again}"


def test_point_6_a_restarted_operator_kills_what_escaped_the_last_one_before_running_again(
    kube: Kube, operator: OperatorProcess
) -> None:
    # The first run starts a process in a session of its own (out of reach of the step's process
    # group), then blocks; the run after the restart only checks that it ran before.
    step = "test -f once || { touch once && (setsid sleep 25 &) && echo started >> marks && sleep 30; }"
    kube.create(r.ASSEMBLY_PLURAL, assembly("leaky", components=[component("leaky", step)], nodes={"a": ["leaky"]},
                                            stages=[{"name": "leaky", "components": ["leaky"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("escapee", "leaky"))
    name = kube.first_task("escapee")
    marks = operator.local_root / kube.namespace / "escapee" / "a" / "marks"
    kube.wait("the step to start", lambda: marks.exists())
    operator.kill()
    escaped = kube.wait("the step's group gone, the escaped process alive",
                        lambda: _processes_in(operator.local_root) if len(_processes_in(operator.local_root)) == 1
                        else None, timeout=5)

    operator.start()
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert escaped[0] not in _processes_in(operator.local_root), "the escaped process outlived the restart"
    assert any("killed 1 step process(es) left running by the previous operator run" in m["text"]
               for m in done["status"]["messages"])
    assert marks.read_text().splitlines() == ["started"]


def test_point_6_a_daemon_that_a_finished_row_started_outlives_the_restart(
    kube: Kube, operator: OperatorProcess
) -> None:
    # Row 2 starts a service on purpose and succeeds; row 3 is running when the operator dies. The
    # restart kills only what belongs to rows it will run again.
    service = component("service", "(setsid sleep 60 >/dev/null 2>&1 &) && echo started > service")
    slow = component("slow", "echo slow >> slow && sleep 30")
    kube.create(r.ASSEMBLY_PLURAL, assembly("svc", components=[service, slow], nodes={"a": ["service", "slow"]},
                                            stages=[{"name": "service", "components": ["service"]},
                                                    {"name": "slow", "components": ["slow"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("daemon", "svc"))
    name = kube.first_task("daemon")
    node = operator.local_root / kube.namespace / "daemon" / "a"
    kube.wait("the slow row to start", lambda: (node / "slow").exists())
    daemons = _processes_in(operator.local_root)
    operator.kill()
    kube.wait("the slow row's processes gone", lambda: len(_processes_in(operator.local_root)) == 1, timeout=5)
    service_pid = _processes_in(operator.local_root)[0]
    assert service_pid in daemons

    operator.start()
    kube.wait("the slow row to run again", lambda: _runs(node / "slow") == 2, timeout=30)
    assert service_pid in _processes_in(operator.local_root), "the restart killed a finished row's service"
    kube.patch(r.TASK_PLURAL, name, {"spec": {"cancel": True}})  # no need to sit through the 30 s
    assert kube.finished_task(name)["status"]["state"] == "cancelled"
    os.kill(service_pid, 9)
