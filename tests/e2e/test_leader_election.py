"""Two operators with --leader-elect (SPEC 9): one works, the other stands by and takes over.

Real processes against the API over HTTP, with the product's own timings (15 s lease, 10 s renew
deadline, 2 s retry). Every step records the pid of the operator that runs it ($PPID of its
shell) with its start and end times, so who ran what, and when, comes from the steps themselves.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.kubeapi.authorization import Denials
from support.cluster import CRDS, Kube, new_namespace
from support.manifests import assembly, component, instance, steps_of
from support.moto_server import free_port
from support.operator_process import OperatorProcess
from support.signals import signal_until_exit
from support.targets import ensure_default_target

LEASE = "dtk-operator"  # the default --lease-name
TAKEOVER_AFTER_KILL_SECONDS = 20.0  # SPEC 9 with the default timings: 15 s lease + 2 s retry, and slack
TAKEOVER_AFTER_TERM_SECONDS = 5.0
LEASE_LOST_EXIT_CODE = 3
STANDBY = '{"leaderElection": "standby"}'  # what a standby's liveness endpoint answers


class Lease:
    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.api = k8s.CoordinationV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
        self.namespace = namespace

    def holder(self) -> str:
        try:
            lease = self.api.read_namespaced_lease(LEASE, self.namespace)
        except ApiException as error:
            if error.status == 404:
                return ""
            raise
        return str(lease.spec.holder_identity or "")

    def take(self, identity: str) -> None:
        """Writes the Lease as another candidate would that took it (a replace of the version read)."""
        lease = self.api.read_namespaced_lease(LEASE, self.namespace)
        lease.spec.holder_identity, lease.spec.renew_time = identity, datetime.now(UTC)
        self.api.replace_namespaced_lease(LEASE, self.namespace, lease)

    def held_by(self, identity: str, timeout: float) -> float:
        """Polls until `identity` holds the Lease; the monotonic time it was first seen so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.holder() == identity:
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"{identity} did not hold the Lease within {timeout:g} s (holder: {self.holder()!r})")


class Elected(OperatorProcess):
    """An operator with --leader-elect whose identity is `name` (as $POD_NAME gives it in a pod),
    with kopf's liveness endpoint, as the chart runs it."""

    def __init__(self, kubeconfig: Path, namespace: str, workdir: Path, name: str) -> None:
        self.liveness = f"http://127.0.0.1:{free_port()}/healthz"
        super().__init__(kubeconfig=kubeconfig, namespace=namespace, workdir=workdir, log_name=f"{name}.log",
                         extra_args=["--leader-elect", "--lease-namespace", namespace, "--liveness", self.liveness],
                         env={"POD_NAME": name})


def probe(url: str) -> tuple[int, str]:
    """A liveness probe, as the kubelet makes it."""
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read().decode()


@dataclass
class Pair:
    leader: OperatorProcess
    standby: OperatorProcess
    lease: Lease


@pytest.fixture
def pair(request: pytest.FixtureRequest, kubeconfig: Path, namespace: str, tmp_path: Path) -> Iterator[Pair]:
    """op-a started first and holding the Lease, op-b started after it and standing by."""
    a, b = (Elected(kubeconfig, namespace, tmp_path, name) for name in ("op-a", "op-b"))
    lease = Lease(kubeconfig, namespace)
    try:
        a.start()
        lease.held_by("op-a", timeout=30)
        b.start()
        yield Pair(a, b, lease)
    finally:
        for process in (a, b):
            process.stop()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            for process in (a, b):
                print(f"\n--- {process.log.name} (last lines) ---\n{process.log_tail(80)}")


def recorded(name: str, seconds: float) -> dict[str, object]:
    """A component whose step appends `start PPID START_NS`, sleeps (a child process, as real work
    is), then appends `end PPID START_NS END_NS`, in a log file of its own on its node."""
    log = f"log-{name}"
    return component(name, f'started=$(date +%s%N) && echo "start $PPID $started" >> {log} && sleep {seconds} '
                           f'&& echo "end $PPID $started $(date +%s%N)" >> {log}')


@dataclass(frozen=True)
class Run:
    node: str
    component: str
    operator: int  # pid of the operator that ran it
    start: int  # ns since the epoch
    end: int | None  # None: killed before it ended


def runs_under(root: Path) -> list[Run]:
    found: dict[tuple[str, str, int], Run] = {}
    for log in root.rglob("log-*"):
        for line in log.read_text().splitlines():
            what, pid, started, *ended = line.split()
            key = (log.parent.name, log.name.removeprefix("log-"), int(started))
            found[key] = Run(key[0], key[1], int(pid), int(started), int(ended[0]) if what == "end" else None)
    return sorted(found.values(), key=lambda run: run.start)


def metric(process: OperatorProcess, name: str, **labels: str) -> float | None:
    return process.metrics().get((name, tuple(sorted(labels.items()))))


def step_processes(root: Path) -> list[int]:
    """Processes working under `root`: the local target's steps, found by where they run."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).is_relative_to(root):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def just_started_runs(root: Path, *, younger_than: float) -> list[Run]:
    """Runs whose `start` line is written, with no `end` yet, begun less than `younger_than`
    seconds ago: a kill now interrupts a step. (A step process alone is not enough: under load
    one can be killed before its command has begun, and then nothing was cut short.)"""
    now = time.time_ns()
    return [run for run in runs_under(root) if run.end is None and now - run.start < younger_than * 1e9]


class StepWatch(threading.Thread):
    """Every 10 ms, which operator lives have step processes running under `root` (each step's
    environment names the operator life that started it: DTK_STEP_LIFE). Two at once is the
    overlap leader election must prevent."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.lives, self.overlaps = root, set[str](), list[set[str]]()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.01):
            lives = {life for pid in step_processes(self.root) if (life := life_of(pid))}
            self.lives |= lives
            if len(lives) > 1:
                self.overlaps.append(lives)

    def __enter__(self) -> StepWatch:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.join(5)


def life_of(pid: int) -> str:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return ""
    return next((item.split(b"=", 1)[1].decode() for item in environ if item.startswith(b"DTK_STEP_LIFE=")), "")


def test_only_the_lease_holder_runs_handlers(kube: Kube, pair: Pair) -> None:
    names = ["one", "two"]
    kube.create(r.ASSEMBLY_PLURAL, assembly("elected", components=[recorded(n, 0.1) for n in names],
                                            nodes={"a": names}, stages=[{"name": n, "components": [n]} for n in names]))
    kube.create(r.INSTANCE_PLURAL, instance("solo", "elected"))
    done = kube.finished_task(kube.first_task("solo"), timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")

    runs = runs_under(pair.leader.local_root)
    assert [(run.component, run.operator) for run in runs] == [("one", pair.leader.pid), ("two", pair.leader.pid)]
    time.sleep(3)  # more than a retry period: the standby has checked the Lease again, and still waits
    assert pair.lease.holder() == "op-a"
    lease = f"{kube.namespace}/{LEASE}"
    assert metric(pair.leader, "dtk_leader_election_status", lease=lease) == 1
    assert metric(pair.standby, "dtk_leader_election_status", lease=lease) == 0
    assert (metric(pair.leader, "dtk_status_writes_total", kind="Task") or 0) > 0
    assert metric(pair.standby, "dtk_status_writes_total", kind="Task") is None
    assert probe(pair.standby.liveness) == (200, STANDBY)  # a waiting pod is alive
    assert probe(pair.leader.liveness)[0] == 200  # kopf's own endpoint, once it leads
    assert "Handler 'instance_changed' succeeded" in pair.leader.log.read_text()
    standby_log = pair.standby.log.read_text().splitlines()
    assert any("standing by; Lease" in line and "held by op-a" in line for line in standby_log)
    election = (" dtk_operator.leadership: ", " dtk_operator.kube.election: ")
    assert [line for line in standby_log if not any(name in line for name in election)] == []  # no kopf at all


STEP_SECONDS = 1.5  # a kill within 0.3 s of a step's start lands with 1.2 s of it to go, even under load


def test_sigkill_of_the_leader_mid_task_hands_over_within_20_s_without_rerun_or_overlap(
    kube: Kube, pair: Pair
) -> None:
    names = [f"s{i}" for i in range(5)]
    kube.create(r.ASSEMBLY_PLURAL, assembly("handover", components=[recorded(n, STEP_SECONDS) for n in names],
                                            nodes={"a": names}, groups={"g": (2, names)},
                                            stages=[{"name": n, "components": [n]} for n in names]))
    kube.create(r.INSTANCE_PLURAL, instance("ha", "handover"))
    name = kube.first_task("ha")
    with StepWatch(pair.leader.local_root) as watch:
        kube.task_when(name, lambda t: steps_of(t).get("4", {}).get("status") == "executing",
                       what="stage s2 to run")
        # At a random moment of the renewal and check cycles (2 s), while steps run.
        time.sleep(random.uniform(0, 2))
        kube.wait(f"a step that has just started (over {STEP_SECONDS - 0.3:g} s to go)",
                  lambda: just_started_runs(pair.leader.local_root, younger_than=0.3), timeout=10)
        killed_pid = pair.leader.pid
        killed_at, killed_ns = time.monotonic(), time.time_ns()
        pair.leader.kill()
        # Its steps die with it (the reaper); once none is left, no run of the old leader can still end.
        kube.wait("the old leader's steps to die", lambda: not step_processes(pair.leader.local_root), timeout=5)
        steps_gone_ns = time.time_ns()
        stored = steps_of(kube.get(r.TASK_PLURAL, name) or {})
        succeeded_at_kill = {row["name"] for row in stored.values() if row["kind"] == "stage"
                             and row["name"] in names and row.get("status") == "succeeded"}
        assert "s0" in succeeded_at_kill

        taken_at = pair.lease.held_by("op-b", timeout=TAKEOVER_AFTER_KILL_SECONDS + 5)
        done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert watch.overlaps == [] and len(watch.lives) == 2  # both ran steps, never at the same moment

    runs = runs_under(pair.standby.local_root)
    by_b = [run for run in runs if run.operator == pair.standby.pid]
    by_a = [run for run in runs if run.operator == killed_pid]
    assert by_a and by_b and len(by_a) + len(by_b) == len(runs)
    first_step = (by_b[0].start - killed_ns) / 1e9
    print(f"\nSIGKILL takeover: the old leader's steps gone {(steps_gone_ns - killed_ns) / 1e9:.2f} s after the "
          f"kill, the Lease held by the standby {taken_at - killed_at:.2f} s after it, its first step "
          f"{first_step:.2f} s after it")
    assert taken_at - killed_at <= TAKEOVER_AFTER_KILL_SECONDS
    # Rows stored succeeded when the leader died never ran again (each ran once, by the old leader).
    for stage in succeeded_at_kill:
        mine = [run for run in runs if run.component == stage]
        assert len(mine) == 3 and all(run.operator == killed_pid and run.end for run in mine), mine
    # No two runs from different operators overlap: every run of the new leader starts after every
    # run of the old one ended (a run cut short by the kill wrote no end: it ended before no step
    # process was left, which the test saw at steps_gone_ns).
    old_ends = [run.end or steps_gone_ns for run in by_a]
    assert min(run.start for run in by_b) > max(old_ends)
    cut_short = [run for run in by_a if run.end is None]
    assert cut_short and all(any(b.component == run.component and b.node == run.node for b in by_b)
                             for run in cut_short)  # what the kill interrupted was run again, by the new leader


def test_sigterm_of_the_leader_mid_task_hands_the_lease_over_within_5_s(kube: Kube, pair: Pair) -> None:
    names = [f"t{i}" for i in range(3)]
    kube.create(r.ASSEMBLY_PLURAL, assembly("graceful", components=[recorded(n, 3.0 if n == "t1" else 1.0)
                                                                    for n in names],
                                            nodes={"a": names}, stages=[{"name": n, "components": [n]} for n in names]))
    kube.create(r.INSTANCE_PLURAL, instance("calm", "graceful"))
    name = kube.first_task("calm")
    with StepWatch(pair.leader.local_root) as watch:
        kube.task_when(name, lambda t: steps_of(t).get("3", {}).get("status") == "executing",
                       what="stage t1 to run")
        time.sleep(random.uniform(0, 2))  # at a random moment of the standby's check cycle (2 s); t1 runs 3 s
        stopped_pid = pair.leader.pid
        assert probe(pair.standby.liveness) == (200, STANDBY)
        sent_at, sent_ns = time.monotonic(), time.time_ns()
        pair.leader.terminate()
        taken_at = pair.lease.held_by("op-b", timeout=TAKEOVER_AFTER_TERM_SECONDS + 10)
        assert pair.leader.exited() == 0
        done = kube.finished_task(name, timeout=60)
    print(f"\nSIGTERM handover: Lease held by the standby {taken_at - sent_at:.2f} s after the signal")
    assert taken_at - sent_at <= TAKEOVER_AFTER_TERM_SECONDS
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert watch.overlaps == [] and len(watch.lives) == 2  # both ran steps, never at the same moment
    status, body = probe(pair.standby.liveness)  # the same address, now kopf's own endpoint
    assert status == 200 and body != STANDBY
    runs = runs_under(pair.standby.local_root)
    by_a = [run for run in runs if run.operator == stopped_pid]
    by_b = [run for run in runs if run.operator == pair.standby.pid]
    assert by_a and by_b and len(by_a) + len(by_b) == len(runs)
    # The stopped leader killed its running step before it let go: it never recorded an end, and
    # every run of the new leader started after the signal and after every ended run of the old one.
    assert min(run.start for run in by_b) > max([sent_ns] + [run.end for run in by_a if run.end])
    assert [run.component for run in by_a if run.end is None] == ["t1"]


def slow_task(kube: Kube, name: str) -> str:
    """A Task whose one step runs 30 s; its name."""
    kube.create(r.ASSEMBLY_PLURAL, assembly(f"slow-{name}", components=[recorded("long", 30)], nodes={"a": ["long"]},
                                            stages=[{"name": "long", "components": ["long"]}]))
    kube.create(r.INSTANCE_PLURAL, instance(name, f"slow-{name}"))
    return kube.first_task(name)


def test_a_leader_that_finds_its_lease_taken_kills_its_steps_and_exits_at_once(
    kube: Kube, kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    leader = Elected(kubeconfig, namespace, tmp_path, "op-a").start()
    lease = Lease(kubeconfig, namespace)
    try:
        lease.held_by("op-a", timeout=30)
        slow_task(kube, "taken")
        kube.wait("the step to start", lambda: step_processes(leader.local_root))
        taken_at = time.monotonic()
        lease.take("intruder")
        assert leader.exited(timeout=10) == LEASE_LOST_EXIT_CODE
        exited_after = time.monotonic() - taken_at
    finally:
        leader.stop()
    assert step_processes(leader.local_root) == []  # dead before their operator was
    assert [(run.component, run.end) for run in runs_under(leader.local_root)] == [("long", None)]
    assert exited_after <= 5.0, exited_after  # its next renewal, every 2 s, finds the Lease taken
    assert "lost the Lease (the Lease was now held by intruder)" in leader.log.read_text()
    assert lease.holder() == "intruder"


@contextmanager
def own_api(workdir: Path, denials: Denials) -> Iterator[tuple[Path, str]]:
    """An API server of this test's own, whose refusals the test changes while the operator runs."""
    with ServedApi(KubeApiEmulator(denials=denials)) as api:
        api.install_crds(CRDS)
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", api.url)
        ensure_default_target(kubeconfig)
        yield kubeconfig, new_namespace(kubeconfig)


def test_a_leader_that_cannot_renew_for_the_renew_deadline_kills_its_steps_and_exits(tmp_path: Path) -> None:
    denials = Denials()
    with own_api(tmp_path, denials) as (kubeconfig, namespace):
        kube, lease = Kube(kubeconfig, namespace), Lease(kubeconfig, namespace)
        leader = Elected(kubeconfig, namespace, tmp_path, "op-a").start()
        try:
            lease.held_by("op-a", timeout=30)
            slow_task(kube, "cut")
            kube.wait("the step to start", lambda: step_processes(leader.local_root))
            denials.deny("update", "coordination.k8s.io", "leases")  # every renewal now gets 403
            denied_at = time.monotonic()
            assert leader.exited(timeout=20) == LEASE_LOST_EXIT_CODE
            exited_after = time.monotonic() - denied_at
        finally:
            leader.stop()
        assert step_processes(leader.local_root) == []
        assert [(run.component, run.end) for run in runs_under(leader.local_root)] == [("long", None)]
        print(f"\nrenewals refused: the leader exited {exited_after:.2f} s after the first refusal")
        # It rode out refusals for the renew deadline (10 s after its last renewal, at most one retry
        # period before the first refusal), then stopped: well before a standby could take over (15 s).
        assert 10.0 - 2.0 - 0.5 <= exited_after <= 10.0 + 2.0, exited_after
        log = leader.log.read_text()
        assert "could not renew the Lease for 10 s" in log and "403" in log


def sigterms_until_it_exits(process: OperatorProcess) -> int:
    """SIGTERM every 2 ms until it exits, as a supervisor repeating it would: each window of the stop
    path gets one (a second signal once killed a leader before it had released its Lease)."""
    assert process.process is not None
    stopped = signal_until_exit(process.process, signal.SIGTERM, deadline_seconds=15)
    process.process = None
    assert stopped.code is not None, f"still running 15 s after the first of {stopped.signals} SIGTERMs"
    print(f"\nstopped {stopped.seconds:.2f} s after the first of {stopped.signals} SIGTERMs")
    return stopped.code


def test_sigterms_until_they_exit_stop_the_standby_then_the_leader_each_with_exit_0(pair: Pair) -> None:
    assert sigterms_until_it_exits(pair.standby) == 0
    assert "leader election: SIGTERM received while standing by; stopped" in pair.standby.log.read_text()
    assert pair.lease.holder() == "op-a"  # the leader carries on
    assert sigterms_until_it_exits(pair.leader) == 0
    assert pair.lease.holder() == ""  # released on the way out, however many signals came meanwhile
    assert "SIGTERM received; stopping kopf" in pair.leader.log.read_text()


@pytest.mark.parametrize(("args", "words"), [
    (["--lease-name", "x"], "--lease-name, --lease-namespace, --lease-duration, --renew-deadline and --retry-period "
                            "need --leader-elect"),
    (["--leader-elect", "--peering", "p"], "--peering (kopf's peering) and --leader-elect exclude each other"),
    (["--leader-elect", "--lease-duration", "10"], "--lease-duration must be more than --renew-deadline"),
    (["--leader-elect", "--retry-period", "9"], "--renew-deadline must be more than 1.2 x --retry-period"),
])
def test_election_flags_that_cannot_work_are_refused_in_one_line(kubeconfig: Path, args: list[str],
                                                                 words: str) -> None:
    done = subprocess.run([sys.executable, "-m", "dtk_operator", "run", "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("dtk-operator run: ") and words in done.stderr
    assert len(done.stderr.splitlines()) == 1
