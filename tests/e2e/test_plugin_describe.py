"""`kubectl dtk describe-task` through the real executable, against Tasks the operator ran: one
namespace holding a Task in each of the five states at once, then the command flag by flag."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dtk_api import resources as r
from support.cluster import Kube, drop_namespace, new_namespace
from support.manifests import assembly, component, instance, task
from support.operator_process import OperatorProcess
from support.plugin import EXECUTABLE, dtk

LINE = re.compile(r"^Task: (?P<name>\S+) +Type: (?P<type>\S+) +State: (?P<state>\S+) +"
                  r"Num: (?P<done>\d+)/(?P<total>\d+) \( *(?P<pct>\d+)%\) "
                  r"LastUpdated: (?P<updated>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) UTC$")


def executing(task_body: dict[str, Any]) -> bool:
    return (task_body.get("status") or {}).get("state") == "executing"


def queued(task_body: dict[str, Any]) -> bool:
    """Pending, and the operator has said so ("waiting for task ... to finish")."""
    return bool((task_body.get("status") or {}).get("message"))


def scene_assembly() -> dict[str, Any]:
    """Converge: a guarded command skipped (a debug message), an action printing (a result). Other
    workflows: one that naps long enough to stay executing, one that fails, one that does little."""
    quick = component("quick", {"run": "echo never", "unless": "true"}, "echo ok",
                      actions={"hello": ["echo hello from quick"], "nap": ["sleep 60"],
                               "fail": ["echo 'disk full' >&2; exit 3"]})
    return assembly("scene", components=[quick], nodes={"n": ["quick"]},
                    stages=[{"name": "setup", "components": ["quick"]}, {"name": "greet", "actions": ["quick.hello"]}],
                    workflows=[{"name": "nap", "stages": [{"name": "nap", "actions": ["quick.nap"]}]},
                               {"name": "fail", "stages": [{"name": "fail", "actions": ["quick.fail"]}]},
                               {"name": "noop", "stages": [{"name": "again", "components": ["quick"]}]}])


@dataclass(frozen=True)
class Scene:
    kubeconfig: Path
    namespace: str
    kube: Kube
    good: str  # good's converge: succeeded
    busy: str  # busy's converge: succeeded
    failed: str = "good-fail"
    executing: str = "busy-nap"
    pending: str = "busy-next"  # queued behind busy-nap
    cancelled: str = "busy-dropped"  # spec.cancel while queued

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return dtk(self.kubeconfig, self.namespace, "describe-task", *args, timeout=30)


def add_assembly(kube: Kube, body: dict[str, Any]) -> None:
    """Waits until the operator has seen it: its assembly handler re-reconciles the instances that
    use it, and racing an instance's own first reconcile it can start a second converge."""
    kube.create(r.ASSEMBLY_PLURAL, body)
    kube.condition_when(r.ASSEMBLY_PLURAL, body["metadata"]["name"], "Ready")


def build_scene(kube: Kube) -> Scene:
    add_assembly(kube, scene_assembly())
    for name in ("good", "busy"):
        kube.create(r.INSTANCE_PLURAL, instance(name, "scene"))
    good, busy = kube.first_task("good"), kube.first_task("busy")
    for name in (good, busy):
        assert kube.finished_task(name, timeout=20)["status"]["state"] == "succeeded"
    kube.create(r.TASK_PLURAL, task("good-fail", "good", "fail"))
    kube.create(r.TASK_PLURAL, task("busy-nap", "busy", "nap"))
    kube.task_when("busy-nap", executing, what="busy-nap to start")
    kube.create(r.TASK_PLURAL, task("busy-next", "busy", "noop"))
    kube.create(r.TASK_PLURAL, task("busy-dropped", "busy", "noop", cancel=True))
    kube.task_when("busy-next", queued, what="busy-next to queue")
    for name in ("good-fail", "busy-dropped"):
        kube.finished_task(name, timeout=20)
    return Scene(kube.kubeconfig, kube.namespace, kube, good=good, busy=busy)


@pytest.fixture(scope="module")
def scene(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """Built once for the module: every test here only reads it (busy-nap naps for 60 s)."""
    namespace = new_namespace(kubeconfig)
    operator = OperatorProcess(kubeconfig=kubeconfig, namespace=namespace, workdir=tmp_path_factory.mktemp("op"))
    operator.start()
    kube = Kube(kubeconfig, namespace)
    try:
        yield build_scene(kube)
    finally:
        if kube.get(r.TASK_PLURAL, "busy-nap"):
            kube.patch(r.TASK_PLURAL, "busy-nap", {"spec": {"cancel": True}})  # ends its 60 s sleep
        operator.stop()
        drop_namespace(kubeconfig, namespace)


def summary(stdout: str) -> dict[str, dict[str, str]]:
    """The summary lines by task name; asserts vappio's layout: two blank lines between tasks."""
    blocks = stdout.rstrip("\n").split("\n\n\n")
    found = {}
    for block in blocks:
        match = LINE.match(block.split("\n")[0])
        assert match, f"not a describe-task line: {block.splitlines()[0]!r}"
        found[match["name"]] = match.groupdict()
    return found


def messages_of(stdout: str, name: str) -> list[str]:
    """The lines printed under one task's summary line."""
    block = next(b for b in stdout.split("\n\n\n") if b.startswith(f"Task: {name} "))
    return block.rstrip("\n").split("\n")[1:]


def test_every_state_one_line_a_task_in_creation_order(scene: Scene) -> None:
    done = scene.run()
    assert done.returncode == 0 and done.stderr == ""
    lines = summary(done.stdout)
    assert {name: line["state"] for name, line in lines.items()} == {
        scene.good: "succeeded", scene.busy: "succeeded", scene.failed: "failed",
        scene.executing: "executing", scene.pending: "pending", scene.cancelled: "cancelled"}
    busy_order = [n for n in lines if n.startswith("busy")]
    assert busy_order == [scene.busy, scene.executing, scene.pending, scene.cancelled]  # the queue's order
    assert lines[scene.good]["type"] == "create" and lines[scene.executing]["type"] == "nap"
    firsts = [block.split("\n")[0] for block in done.stdout.split("\n\n\n")]
    assert len({line.index(" Type: ") for line in firsts}) == 1  # names padded to the longest
    assert len({line.index(" State: ") for line in firsts}) == 1 and len({line.index(" Num: ") for line in firsts}) == 1


def test_num_and_last_updated_come_from_the_status(scene: Scene) -> None:
    lines = summary(scene.run().stdout)
    good = scene.kube.get(r.TASK_PLURAL, scene.good) or {}
    progress = good["status"]["progress"]
    assert (int(lines[scene.good]["done"]), int(lines[scene.good]["total"])) == (progress["completed"],
                                                                                progress["total"])
    assert progress["total"] > 0 and lines[scene.good]["pct"] == "100"
    updated = datetime.fromisoformat(good["status"]["updatedAt"]).astimezone(UTC)
    assert lines[scene.good]["updated"] == updated.strftime("%Y/%m/%d %H:%M:%S")
    assert lines[scene.executing]["done"] == "0" and lines[scene.executing]["pct"] == "0"


def test_nc_hides_the_succeeded_tasks(scene: Scene) -> None:
    done = scene.run("--nc")
    assert list(summary(done.stdout)) == [n for n in summary(scene.run().stdout)
                                          if n not in (scene.good, scene.busy)]
    assert set(summary(done.stdout)) == {scene.failed, scene.executing, scene.pending, scene.cancelled}


def test_without_show_flags_no_messages_are_printed(scene: Scene) -> None:
    stdout = scene.run().stdout
    assert all(messages_of(stdout, name) == [] for name in summary(stdout))


def test_show_prints_notifications_only(scene: Scene) -> None:
    stdout = scene.run("--show").stdout
    nap = messages_of(stdout, scene.executing)
    assert any(re.fullmatch(r"Notification - \S+ \S+ UTC: stage 1 'nap' started", line) for line in nap)
    everything = [line for name in summary(stdout) for line in messages_of(stdout, name)]
    assert everything and all(line.startswith("Notification - ") for line in everything)


def test_show_error_prints_the_failing_steps_error(scene: Scene) -> None:
    stdout = scene.run("--show-error", scene.failed, scene.good).stdout
    errors = messages_of(stdout, scene.failed)
    assert any(re.fullmatch(r"Error - \S+ \S+ UTC: step 1\.1 on n failed: .*disk full", line) for line in errors)
    assert all(line.startswith("Error - ") for line in errors)
    assert messages_of(stdout, scene.good) == []  # a succeeded converge has no error


def test_show_debug_prints_the_skipped_guard(scene: Scene) -> None:
    debug = messages_of(scene.run("--show-debug", scene.good).stdout, scene.good)
    assert len(debug) == 1
    assert re.fullmatch(r"Debug - \S+ \S+ UTC: step \S+ on n: skipped 'echo never' \(unless guard 'true'\)", debug[0])


def test_show_all_prints_every_kind_results_included(scene: Scene) -> None:
    stdout = scene.run("--show-all", scene.good, scene.failed).stdout
    good = messages_of(stdout, scene.good)
    assert {line.split(" - ")[0] for line in good} == {"Notification", "Debug", "Result"}
    assert any(re.fullmatch(r"Result - \S+ \S+ UTC: n quick\.hello: hello from quick", line) for line in good)
    assert any(line.startswith("Error - ") for line in messages_of(stdout, scene.failed))
    assert "Result - " not in scene.run("--show", "--show-error", "--show-debug", scene.good).stdout


def test_exit_code_says_whether_every_task_shown_succeeded(scene: Scene) -> None:
    assert scene.run("--exit-code", scene.good, scene.busy).returncode == 0
    assert scene.run("--exit-code").returncode == 1
    assert scene.run("--exit-code", scene.cancelled).returncode == 1
    assert scene.run("--exit-code", "--nc", scene.good).returncode == 0  # --nc first: nothing left to fail
    assert scene.run(scene.failed).returncode == 0  # without --exit-code, a failed task is just shown


def test_block_on_ended_tasks_returns_at_once(scene: Scene) -> None:
    started = time.monotonic()
    done = scene.run("-b", "--exit-code", scene.failed, scene.cancelled)
    assert done.returncode == 1 and time.monotonic() - started < 5
    assert list(summary(done.stdout)) == [scene.failed, scene.cancelled]  # the order given


def test_block_timeout_exits_3_after_the_summary(scene: Scene) -> None:
    started = time.monotonic()
    done = scene.run("-b", "--timeout", "1", scene.executing)
    assert done.returncode == 3 and time.monotonic() - started < 6
    *streamed, final = done.stdout.splitlines()  # what the task had logged so far, then where it stands
    assert f"{scene.executing}: Notification - " in streamed[0] and "stage 1 'nap' started" in streamed[-1]
    assert (LINE.match(final) or {"state": ""})["state"] == "executing"
    assert "did not all end within 1 s" in done.stderr


def test_a_missing_task_exits_4_naming_it(scene: Scene) -> None:
    done = scene.run(scene.good, "no-such-task")
    assert done.returncode == 4 and done.stdout == ""
    assert f'task "no-such-task" not found in namespace "{scene.namespace}"' in done.stderr


def test_bad_flags_exit_2(scene: Scene) -> None:
    for args in (["--bogus"], ["--timeout", "1"], ["-b", "--timeout", "-1"]):
        done = scene.run(*args)
        assert done.returncode == 2 and done.stdout == "", args
        assert "usage:" in done.stderr or "--timeout only applies with -b" in done.stderr


def test_json_output_and_all_namespaces(scene: Scene) -> None:
    listed = json.loads(scene.run("-o", "json", scene.executing, scene.failed).stdout)
    assert [item["metadata"]["name"] for item in listed["items"]] == [scene.executing, scene.failed]
    assert listed["items"][0]["status"]["state"] == "executing"
    wide = summary(scene.run("-A", scene.executing).stdout)
    assert list(wide) == [f"{scene.namespace}/{scene.executing}"]


# ---- blocking on a running Task, in a namespace of its own ----------------------------------


def start(kubeconfig: Path, namespace: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(EXECUTABLE), "describe-task", *args, "--kubeconfig", str(kubeconfig),
                             "-n", namespace], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """Its stdout line by line as it comes (a thread reads, so each read can have a deadline);
    None at the end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout or ():
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def rest_of(lines: queue.Queue[str | None]) -> list[str]:
    out = []
    while (line := lines.get(timeout=10)) is not None:
        out.append(line.rstrip("\n"))
    return out


def test_block_streams_new_messages_and_returns_when_the_task_ends(kube: Kube, operator: OperatorProcess) -> None:
    napper = component("napper", "sleep 3", "echo rested")
    add_assembly(kube, assembly("nap", components=[napper], nodes={"n": ["napper"]},
                                stages=[{"name": "nap", "components": ["napper"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("b", "nap"))
    name = kube.first_task("b")
    kube.task_when(name, executing, what=f"{name} to start")
    streaming = start(kube.kubeconfig, kube.namespace, "-b", name)
    quiet = start(kube.kubeconfig, kube.namespace, "-b", "--no-print-polling", "--exit-code", name)
    lines = lines_of(streaming)
    first = lines.get(timeout=10) or ""
    assert first.startswith(f"{name}: Notification - ") and " started" in first
    assert executing(kube.get(r.TASK_PLURAL, name) or {})  # printed while it ran
    assert streaming.wait(timeout=20) == 0 and quiet.wait(timeout=20) == 0
    returned = datetime.now(UTC)
    ended = datetime.fromisoformat(kube.finished_task(name)["status"]["endedAt"])
    assert (returned - ended).total_seconds() < 3  # woken by the watch, not by a 30 s poll
    *streamed, final = rest_of(lines)
    assert any(line.startswith(f"{name}: Notification - ") and "stage 2 'nap' succeeded" in line
               for line in streamed)  # a message that did not exist when the command started
    assert LINE.match(final) and " State: succeeded " in final
    quiet_lines = (quiet.stdout.read() if quiet.stdout else "").splitlines()
    assert len(quiet_lines) == 1 and " State: succeeded " in quiet_lines[0]  # --no-print-polling: the summary only
    assert LINE.match(quiet_lines[0])
