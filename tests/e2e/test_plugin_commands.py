"""Every `kubectl dtk` command besides task-status and describe-task, through the real executable,
against the API emulator (or DTK_TEST_KUBECONFIG) with the operator running: what users see on
stdout and stderr, the exit codes, and what the commands change in the API."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from support.cluster import Kube
from support.gates import gate_step
from support.manifests import assembly, component, instance
from support.operator_process import OperatorProcess
from support.plugin import EXECUTABLE, dtk
from support.targets import DEFAULT_TARGET, Targets, target_body

BOX_ROW = re.compile(r"^\| (.*) \|$")


def cells(stdout: str) -> list[list[str]]:
    """The data rows of a DTK box table (header excluded), cells stripped."""
    rows = [[c.strip() for c in m[1].split(" | ")] for line in stdout.splitlines() if (m := BOX_ROW.match(line))]
    return rows[1:]


def instance_named(kube: Kube, name: str) -> dict[str, Any]:
    body = kube.get(r.INSTANCE_PLURAL, name)
    assert body is not None, f"service instance {name} does not exist"
    return body


def answer_on_a_terminal(kube: Kube, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs a command whose stdin is a terminal (a pty) and types `answer` into it."""
    typing, terminal = pty.openpty()
    try:
        os.write(typing, f"{answer}\n".encode())
        return subprocess.run([str(EXECUTABLE), *args, "--kubeconfig", str(kube.kubeconfig), "-n", kube.namespace],
                              stdin=terminal, capture_output=True, text=True, timeout=30)
    finally:
        os.close(typing)
        os.close(terminal)


def app_assembly(gate: Path | None = None) -> dict[str, Any]:
    """One node and a group of two; `load` (on web) takes a param; `fail` fails on web's second command;
    with `gate`, the create workflow's last stage waits for that file (so a Task stays running)."""
    hold = gate_step(gate) if gate is not None else ""
    tools = component("tools", "echo tools on $DTK_NODE", actions={
        "load": ["echo loading {{name}}"], "boom": ["echo about to fail", "echo 'disk full' >&2; exit 3"]})
    stages = [{"name": "tools", "components": ["tools"]}]
    comps = [tools]
    if gate is not None:
        comps.append(component("hold", hold))
        stages.append({"name": "hold", "components": ["hold"]})
    return assembly("app", components=comps, nodes={"web": ["tools", *(["hold"] if gate else [])]},
                    groups={"workers": (2, ["tools"])}, stages=stages,
                    workflows=[{"name": "load", "params": ["name"],
                                "stages": [{"name": "load", "actions": ["tools.load"], "node": "web"}]},
                               {"name": "fail",
                                "stages": [{"name": "boom", "actions": ["tools.boom"], "node": "web"}]}])


def create_assembly(kube: Kube, body: dict[str, Any]) -> None:
    """Creates it and waits until the operator has seen it. An instance created while the operator
    is still handling its Assembly at start-up has been seen to get two `create` Tasks (the
    instance's reconcile reads, decides and creates outside the per-instance lock): an operator
    race these tests are not about."""
    kube.create(r.ASSEMBLY_PLURAL, body)
    name = body["metadata"]["name"]
    kube.wait(f"assembly {name} to be observed",
              lambda: ((kube.get(r.ASSEMBLY_PLURAL, name) or {}).get("status") or {}).get("nodeCount"))


def test_deploy_stage_and_the_listings(kube: Kube, operator: OperatorProcess, targets: Targets) -> None:
    create_assembly(kube, app_assembly())
    listed = dtk(kube.kubeconfig, kube.namespace, "list-assemblies", "test:e2e")
    assert listed.returncode == 0 and cells(listed.stdout)[0][1:] == ["app", "3", "test assembly app"]
    assert listed.stdout.endswith("1 row in set\n")

    deployed = dtk(kube.kubeconfig, kube.namespace, "deploy", "app", "one", "-s")
    si = instance_named(kube, "one")
    assert deployed.returncode == 0, deployed.stderr
    task_id = kube.tasks_of("one")[0]["metadata"]["uid"][:8]  # the ID list-tasks shows, as DTK's task_id
    assert deployed.stdout.startswith(f"  {si['metadata']['uid'][:8]}\n  assembly_instance_name: one\n"
                                      f"  task_id: {task_id}\n  task_name: one-1\n=========================")
    assert "end: 'assembly_converge' (total duration:" in deployed.stdout
    assert "targetRef" not in si["spec"]  # no --target: the namespace's default Target, recorded by the operator
    assert instance_named(kube, "one")["status"]["target"] == DEFAULT_TARGET

    lab = targets.create(target_body("lab", "local", allowed={"list": [kube.namespace]}))
    staged = dtk(kube.kubeconfig, kube.namespace, "stage", "app", "two", "--target", lab)
    two = instance_named(kube, "two")
    assert staged.returncode == 0 and two["spec"]["staged"] is True and two["spec"]["targetRef"] == {"name": lab}
    assert staged.stdout == f"new_service_instance:\n  name: two\n  id: {two['metadata']['uid'][:8]}\n"

    kube.condition_when(r.INSTANCE_PLURAL, "one", "Ready")  # LAST RUN is written just after the Task ends
    kube.wait("two to be observed", lambda: (kube.get(r.INSTANCE_PLURAL, "two") or {}).get("status", {})
              .get("nodeCount"))
    ls = dtk(kube.kubeconfig, kube.namespace, "ls")
    assert [row[1:7] for row in cells(ls.stdout)] == [
        ["one", "running", "succeeded", "test:e2e/assembly/app", DEFAULT_TARGET, "3"],
        ["two", "pending", "", "test:e2e/assembly/app", lab, "3"]]
    everywhere = dtk(kube.kubeconfig, kube.namespace, "ls", "-A")
    assert [c.strip() for c in everywhere.stdout.splitlines()[1].split("|")[1:3]] == ["NAMESPACE", "ID"]
    assert [kube.namespace, "one"] in [[row[0], row[2]] for row in cells(everywhere.stdout)]
    as_json = json.loads(dtk(kube.kubeconfig, kube.namespace, "ls", "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in as_json["items"]] == ["one", "two"]

    nodes = dtk(kube.kubeconfig, kube.namespace, "list-nodes", "one")
    assert [(row[1], row[5]) for row in cells(nodes.stdout)] == [
        ("web", "running"), ("workers:1", "running"), ("workers:2", "running")]
    tasks = dtk(kube.kubeconfig, kube.namespace, "list-tasks", "one")
    assert [row[1:3] for row in cells(tasks.stdout)] == [["succeeded", "assembly_converge"]]


def test_converge_and_exec_stream_to_their_outcome(kube: Kube, operator: OperatorProcess) -> None:
    create_assembly(kube, app_assembly())
    assert dtk(kube.kubeconfig, kube.namespace, "deploy", "app", "one").returncode == 0
    again = dtk(kube.kubeconfig, kube.namespace, "converge", "one", "-s", "--message", "after the fix")
    assert again.returncode == 0, again.stderr
    assert re.match(r"task_id: [0-9a-f]{8}\ntask_name: one-\w+\n", again.stdout)
    assert "end: 'assembly_converge'" in again.stdout
    loaded = dtk(kube.kubeconfig, kube.namespace, "exec", "one", "load", "name=mar01", "-s")
    assert loaded.returncode == 0 and "  loading mar01\n" in loaded.stdout
    failed = dtk(kube.kubeconfig, kube.namespace, "exec", "one", "fail", "-s")
    assert failed.returncode == 1 and "STATUS: failed" in failed.stdout

    rows = cells(dtk(kube.kubeconfig, kube.namespace, "list-tasks", "one").stdout)
    assert [row[1:3] for row in rows] == [["succeeded", "assembly_converge"], ["succeeded", "assembly_converge"],
                                          ["succeeded", "load"], ["failed", "fail"]]
    # point 17: every Task says its workflow in a label, whoever created it
    assert sorted(t["metadata"]["labels"].get(r.WORKFLOW_LABEL, "") for t in kube.tasks_of("one")) == [
        "create", "create", "fail", "load"]
    assert rows[1][5] == "after the fix" and rows[3][5].startswith("failed at 1.1 on web: ")

    detail = dtk(kube.kubeconfig, kube.namespace, "task-action-detail", "one", "1.1")
    assert detail.returncode == 0
    assert ("RUN: echo 'disk full' >&2; exit 3 (syscall)\nNODE: web (row 1.1 action)\nSTATUS: 3\n"
            "STDOUT:\nSTDERR:\n  disk full\n") in detail.stdout
    by_id = dtk(kube.kubeconfig, kube.namespace, "task-action-detail", "one", "2", "--task", rows[0][0])
    assert "NODE: workers:2 (row 2.1.2 configure_node)" in by_id.stdout and "  tools on workers:2\n" in by_id.stdout
    unknown = dtk(kube.kubeconfig, kube.namespace, "task-action-detail", "one", "9.9")
    assert unknown.returncode == 4
    assert "Task action with identifier '9.9' does not exist for this service instance" in unknown.stderr


def test_cancel_task_cancels_the_running_task_then_the_queued_one(
        kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    create_assembly(kube, app_assembly(gate=tmp_path / "never"))
    kube.create(r.INSTANCE_PLURAL, instance("one", "app"))
    first = kube.first_task("one")
    kube.task_when(first, lambda t: any(s["index"] == "3" and s.get("status") == "executing"
                                        for s in t.get("status", {}).get("steps", [])), what="the hold stage")
    queued = dtk(kube.kubeconfig, kube.namespace, "converge", "one", "--message", "queued")
    second = queued.stdout.partition("task_name: ")[2].strip()
    assert f"task {second} waits for task {first} (executing) to finish" in queued.stderr
    kube.task_when(second, lambda t: bool(t.get("status", {}).get("message")), what="the queued task's message")
    rows = cells(dtk(kube.kubeconfig, kube.namespace, "list-tasks", "one").stdout)
    assert [row[1] for row in rows] == ["executing", "pending"]
    assert rows[1][5] == f"queued (waiting for task {first} to finish)"

    cancelled = dtk(kube.kubeconfig, kube.namespace, "cancel-task", "one")
    assert cancelled.returncode == 0
    assert cancelled.stdout == f"task {first} (executing): cancel requested; the operator kills its running commands\n"
    assert kube.finished_task(first, timeout=10)["status"]["state"] == "cancelled"
    assert dtk(kube.kubeconfig, kube.namespace, "cancel-task", "one").stdout.startswith(f"task {second} (")
    assert kube.finished_task(second, timeout=10)["status"]["state"] == "cancelled"
    nothing = dtk(kube.kubeconfig, kube.namespace, "cancel-task", "one")
    assert (nothing.returncode, nothing.stdout) == (0, "No running tasks found\n")
    ended = dtk(kube.kubeconfig, kube.namespace, "cancel-task", "one", first)
    assert ended.stdout == f"task {first} has already ended (cancelled): nothing to cancel\n"


def test_start_and_stop_set_the_power(kube: Kube, operator: OperatorProcess, targets: Targets) -> None:
    create_assembly(kube, app_assembly())
    lab = targets.create(target_body("lab", "local", allowed={"list": [kube.namespace]}))
    assert dtk(kube.kubeconfig, kube.namespace, "stage", "app", "one", "--target", lab).returncode == 0
    assert instance_named(kube, "one")["spec"] | {"power": "running"} == {
        "assemblyRef": {"name": "app"}, "staged": True, "deletionPolicy": "Delete", "power": "running",
        "targetRef": {"name": lab}}
    stopped = dtk(kube.kubeconfig, kube.namespace, "stop", "one")
    assert stopped.returncode == 0 and stopped.stdout.startswith("service instance one: power set to stopped")
    assert instance_named(kube, "one")["spec"]["power"] == "stopped"
    twice = dtk(kube.kubeconfig, kube.namespace, "stop", "one")
    assert twice.stdout == "service instance one: power is already stopped\n"
    started = dtk(kube.kubeconfig, kube.namespace, "start", "one")
    assert started.returncode == 0 and started.stdout.startswith("service instance one: power set to running")
    assert instance_named(kube, "one")["spec"]["power"] == "running"


def test_delete_and_destroy_asks_first_then_removes_the_instance_and_its_nodes(
        kube: Kube, operator: OperatorProcess) -> None:
    create_assembly(kube, app_assembly())
    assert dtk(kube.kubeconfig, kube.namespace, "deploy", "app", "one", "-s").returncode == 0
    node_dirs = [p for p in operator.local_root.rglob("*") if p.is_dir() and p.parent.name == "one"]
    assert len(node_dirs) == 3
    refused = dtk(kube.kubeconfig, kube.namespace, "delete-and-destroy", "one")  # stdin is not a terminal
    assert refused.returncode == 2 and "pass -y to confirm" in refused.stderr
    declined = answer_on_a_terminal(kube, "no", "delete-and-destroy", "one")
    assert (declined.returncode, declined.stdout) == (0, "Nothing deleted.\n")
    assert declined.stderr == "Are you sure you want to delete and destroy service 'one' and its nodes? (yes|no) "
    assert kube.get(r.INSTANCE_PLURAL, "one") is not None
    deleted = dtk(kube.kubeconfig, kube.namespace, "delete-and-destroy", "one", "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout == ("service instance one deletion requested: its 3 nodes are terminated (deletionPolicy "
                              "Delete)\nservice instance one deleted\n")
    assert kube.get(r.INSTANCE_PLURAL, "one") is None and not any(p.exists() for p in node_dirs)


def test_missing_objects_exit_4_and_bad_usage_exits_2(kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    for command in (["list-nodes", "nope"], ["list-tasks", "nope"], ["converge", "nope"], ["exec", "nope", "wf"],
                    ["cancel-task", "nope"], ["task-action-detail", "nope", "1"], ["start", "nope"],
                    ["delete-and-destroy", "nope", "-y"], ["deploy", "no-such-assembly", "x"]):
        missing = dtk(kube.kubeconfig, kube.namespace, *command)
        assert missing.returncode == 4, (command, missing.stderr)
        assert missing.stderr.startswith("error: ") and "not found" in missing.stderr and not missing.stdout
    create_assembly(kube, app_assembly())
    kube.create(r.INSTANCE_PLURAL, instance("one", "app", staged=True))
    assert "does-not-exist" in dtk(kube.kubeconfig, kube.namespace, "exec", "one", "does-not-exist").stderr
    for command, says in ((["ls", "--bogus"], "unrecognized arguments: --bogus"),
                          (["deploy", "app", "x", "--target", "ghost"],
                           "service instance x was created but cannot run: Target 'ghost' not found"),
                          (["exec", "one", "load", "name"], "ill-formed params 'name'"),
                          (["exec", "one", "load", "name=a b"], "param 'name' has a value that is not allowed"),
                          (["list-tasks", "one", "-A"], "not -A"),
                          (["converge", "one", "-o", "jsonl"], "-o jsonl is the format of a stream"),
                          (["deploy", "app", "one"], 'serviceinstances.dtk.io "one" already exists')):
        wrong = dtk(kube.kubeconfig, kube.namespace, *command)
        assert (wrong.returncode, says in wrong.stderr) == (2, True), (command, wrong.stderr)
    assert kube.tasks_of("one") == []  # nothing was created by a refused command


def test_deploy_gives_up_at_its_timeout_when_no_task_comes(kube: Kube) -> None:
    kube.create(r.ASSEMBLY_PLURAL, app_assembly())  # no operator: nobody creates the Task
    waited = dtk(kube.kubeconfig, kube.namespace, "deploy", "app", "one", "-s", "--timeout", "0.5")
    assert waited.returncode == 3
    assert "the operator has not created a task for one within 0.5 s" in waited.stderr
    assert waited.stdout.endswith("assembly_instance_name: one\n")


def test_point_14_control_characters_of_command_output_are_shown_escaped_never_obeyed(
        kube: Kube, operator: OperatorProcess) -> None:
    noisy = component("noisy", r"printf 'before\033[2J\033]0;pwned\007after\n'; printf 'oops\033[31m\n' >&2; exit 3")
    create_assembly(kube, assembly("noisy", components=[noisy], nodes={"web": ["noisy"]},
                                   stages=[{"name": "noisy", "components": ["noisy"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("loud", "noisy"))
    assert kube.finished_task(kube.first_task("loud"))["status"]["state"] == "failed"
    for command in (["task-action-detail", "loud", "2.1"], ["task-status", "loud", "-m", "stream"],
                    ["task-status", "loud"], ["describe-task", "--show-all"]):
        shown = dtk(kube.kubeconfig, kube.namespace, *command)
        assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout, command
        assert "before\\x1b[2J\\x1b]0;pwned\\x07after" in shown.stdout or "oops\\x1b[31m" in shown.stdout, command
