"""Issue 8 points 16 and 17 through the real `kubectl-dtk`: a failure says why wherever a Task is
shown (the stream, JSON lines, `exec -s`, a stalled instance in task-status and ls), and a Task
has one identity across commands; no-op answers, -A and conditions say what happened."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from support.cluster import Kube, drop_namespace, new_namespace
from support.gates import gate_step
from support.manifests import assembly, component, condition, instance, task
from support.operator_process import OperatorProcess
from support.plugin import dtk
from support.private_api import older_task_crds, private_api

BOX_ROW = re.compile(r"^\| (.*) \|$")
TIMEOUT_TEXT = "tools.slow: Timeout (1 sec) for this action has been exceeded"
INVALID_TEXT = "task is invalid: unknown variable 'nope' in 'echo {{nope}}'"


def cells(stdout: str) -> list[list[str]]:
    rows = [[c.strip() for c in m[1].split(" | ")] for line in stdout.splitlines() if (m := BOX_ROW.match(line))]
    return rows[1:]


def flows_assembly(gate: Path | None = None) -> dict[str, Any]:
    """One node `web`; `slow` runs one action step past its 1 s timeout; `broken` names an unknown
    variable (the Task fails validation before any row runs); `hold` waits for `gate`."""
    tools = {"name": "tools", "create": [{"run": "true"}], "actions": [
        {"name": "slow", "steps": [{"run": "echo started; sleep 30", "timeoutSeconds": 1}]},
        {"name": "broken", "steps": [{"run": "echo {{nope}}"}]},
        {"name": "hold", "steps": [{"run": gate_step(gate) if gate else "true"}]}]}
    flows = [{"name": name, "stages": [{"name": name, "actions": [f"tools.{name}"], "node": "web"}]}
             for name in ("slow", "broken", "hold")]
    return assembly("flows", components=[tools], nodes={"web": ["tools"]},
                    stages=[{"name": "tools", "components": ["tools"]}], workflows=flows)


def observed_assembly(kube: Kube, gate: Path | None = None) -> None:
    """Created, and seen by the operator: an instance made before that may be Stalled
    AssemblyNotFound for a moment, which these tests are not about."""
    kube.create(r.ASSEMBLY_PLURAL, flows_assembly(gate))
    kube.wait("the assembly to be observed",
              lambda: ((kube.get(r.ASSEMBLY_PLURAL, "flows") or {}).get("status") or {}).get("nodeCount"))


def deployed(kube: Kube, gate: Path | None = None) -> str:
    """`one` deployed and its converge Task ended; returns that Task's name."""
    observed_assembly(kube, gate)
    kube.create(r.INSTANCE_PLURAL, instance("one", "flows"))
    name = kube.first_task("one")
    assert kube.finished_task(name)["status"]["state"] == "succeeded"
    return name


def run(kube: Kube, *args: str) -> Any:
    return dtk(kube.kubeconfig, kube.namespace, *args)


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


# ---- point 16: failure reasons ------------------------------------------------------------------


def test_point_16_a_step_timeout_says_why_in_exec_s_the_stream_and_jsonl(
        kube: Kube, operator: OperatorProcess) -> None:
    deployed(kube)
    streamed = run(kube, "exec", "one", "slow", "-s")
    assert streamed.returncode == 1, streamed.stderr
    text = streamed.stdout
    assert "RUN: echo started; sleep 30 (syscall)\nRETURN CODE: none (the command was killed)\n" in text
    assert "STATUS: failed\n" in text and f"ERRORS:\nNODE: web\n  {TIMEOUT_TEXT}\n" in text
    last_two = text.splitlines()[-2:]
    assert last_two[0] == f"TASK FAILED: step 1.1 on web: {TIMEOUT_TEXT}"
    assert re.fullmatch(r"={25} end: 'slow' \(total duration: \d+\.\ds\) ={25}", last_two[1])
    name = cells(run(kube, "list-tasks", "one").stdout)[-1][0]
    replayed = run(kube, "task-status", "one", "-m", "stream")
    assert replayed.returncode == 1 and replayed.stdout == text.split("\n", 2)[2]  # all but task_id and name
    events = jsonl(run(kube, "task-status", "one", "-m", "stream", "-o", "jsonl", "--task", name).stdout)
    stage_end = next(e for e in events if e["event"] == "stage_end")
    assert stage_end["errors"] == [{"node": "web", "type": "user", "message": TIMEOUT_TEXT}]
    assert stage_end["results"][0]["returnCode"] is None
    assert events[-1]["event"] == "task_end" and events[-1]["state"] == "failed"
    assert events[-1]["failure"] == {"index": "1.1", "node": "web", "message": TIMEOUT_TEXT, "returnCode": None}


def test_point_16_a_task_failing_validation_prints_its_failure_before_the_closing_banner(
        kube: Kube, operator: OperatorProcess) -> None:
    deployed(kube)
    streamed = run(kube, "exec", "one", "broken", "-s")
    assert streamed.returncode == 1, streamed.stderr
    banner = "=" * 25
    assert streamed.stdout.split("\n", 2)[2] == (
        f"{banner} start 'broken' {banner}\n\n\n"
        f"TASK FAILED: {INVALID_TEXT}\n"
        f"{banner} end: 'broken' {banner}\n")
    events = jsonl(run(kube, "task-status", "one", "-m", "stream", "-o", "jsonl").stdout)
    assert [e["event"] for e in events] == ["task_start", "task_end"]
    assert events[-1]["failure"]["message"] == INVALID_TEXT and events[-1]["state"] == "failed"


def test_point_16_the_stream_ends_saying_why_when_the_final_status_lost_its_rows(tmp_path: Path) -> None:
    with private_api(tmp_path, crds=older_task_crds(tmp_path / "crds")) as (kube, _):
        slow = component("slow", {"run": "sleep 30", "timeoutSeconds": 1})
        kube.create(r.ASSEMBLY_PLURAL, assembly(
            "older", components=[component("quick", "echo ok"), slow], nodes={"web": ["quick", "slow"]},
            stages=[{"name": "quick", "components": ["quick"]}, {"name": "slow", "components": ["slow"]}]))
        kube.create(r.INSTANCE_PLURAL, instance("app", "older"))
        first = kube.first_task("app")
        streamed = run(kube, "task-status", "app", "-m", "stream", "--task", first, "--timeout", "60")
        assert streamed.returncode == 1, streamed.stderr
        failed, _, closing = streamed.stdout.rpartition("TASK FAILED: ")[2].rstrip("\n").rpartition("\n")
        assert failed.startswith("step 3.1 on web: slow: Timeout (1 sec) for this action has been exceeded")
        assert "(the API server refused the Task's status: " in failed and "returnCode" in failed
        assert re.fullmatch(r"={25} end: 'assembly_converge'( \(total duration: \d+\.\ds\))? ={25}", closing)


def test_point_16_a_stalled_instance_says_why_in_task_status_and_ls(
        kube: Kube, strict_operator: OperatorProcess) -> None:
    observed_assembly(kube)
    kube.create(r.INSTANCE_PLURAL, instance("one", "flows"))
    stalled = kube.condition_when(r.INSTANCE_PLURAL, "one", "Stalled")
    assert condition(stalled, "Stalled")["reason"] == "LocalTargetDisabled"
    why = condition(stalled, "Stalled")["message"]
    assert "--allow-local-target" in why
    for mode in ([], ["-m", "stream"], ["--wait"]):
        shown = run(kube, "task-status", "one", *mode)
        assert (shown.returncode, shown.stdout) == (2, ""), (mode, shown.stderr)
        assert shown.stderr == f"error: service instance one is stalled: {why}\n"
    listed = run(kube, "ls")
    assert listed.returncode == 0 and cells(listed.stdout)[0][1:3] == ["one", "stalled"]
    assert listed.stderr == f"service instance one is stalled: {why}\n"
    no_tasks = run(kube, "list-tasks", "one")
    assert no_tasks.stdout.endswith("0 rows in set\n") and no_tasks.stderr == listed.stderr


# ---- point 17: one identity, no-op answers, -A, conditions --------------------------------------


def test_point_17_the_id_deploy_prints_is_the_list_tasks_id_and_works_as_task(
        kube: Kube, operator: OperatorProcess) -> None:
    observed_assembly(kube)
    answer = run(kube, "deploy", "flows", "one", "-s")
    assert answer.returncode == 0, answer.stderr
    first = kube.tasks_of("one")[0]
    task_id, name = first["metadata"]["uid"][:8], first["metadata"]["name"]
    assert f"\n  task_id: {task_id}\n  task_name: {name}\n" in answer.stdout
    assert cells(run(kube, "list-tasks", "one").stdout)[0][0] == task_id
    for command in (["task-status", "one", "--task", task_id], ["task-action-detail", "one", "1", "--task", task_id],
                    ["describe-task", task_id]):
        found = run(kube, *command)
        assert found.returncode == 0, (command, found.stderr)
    assert f"Task: {name} " in run(kube, "describe-task", task_id).stdout
    as_json = json.loads(run(kube, "task-status", "one", "--task", task_id, "-o", "json").stdout)
    assert as_json["metadata"]["name"] == name
    made = run(kube, "exec", "one", "hold", "-s")
    made_id, made_name = re.findall(r"^task_(?:id|name): (\S+)$", made.stdout, re.M)
    assert [row[0] for row in cells(run(kube, "list-tasks", "one").stdout)][-1] == made_id
    assert kube.get(r.TASK_PLURAL, made_name) is not None


def test_point_17_no_op_answers_honour_o_json(kube: Kube) -> None:
    kube.create(r.INSTANCE_PLURAL, instance("one", "flows", staged=True, power="stopped"))
    stopped = run(kube, "stop", "one", "-o", "json")
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["metadata"]["name"] == "one"
    assert "power is already stopped" in stopped.stderr
    nothing = run(kube, "cancel-task", "one", "-o", "json")
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == {"apiVersion": "v1", "kind": "List", "items": []}
    assert "No running tasks found" in nothing.stderr
    kube.create(r.TASK_PLURAL, task("one-1", "one", "create"))
    kube.custom.patch_namespaced_custom_object_status(r.GROUP, r.VERSION, kube.namespace, r.TASK_PLURAL, "one-1",
                                                      {"status": {"state": "succeeded"}})
    ended = run(kube, "cancel-task", "one", "one-1", "-o", "yaml")
    assert ended.returncode == 0 and "name: one-1" in ended.stdout and "state: succeeded" in ended.stdout
    assert "has already ended" in ended.stderr


def test_point_17_all_namespaces_with_a_name_is_refused_or_ambiguous(kube: Kube) -> None:
    other = new_namespace(kube.kubeconfig)
    try:
        twin = Kube(kube.kubeconfig, other)
        for where in (kube, twin):
            where.create(r.INSTANCE_PLURAL, instance("one", "flows", staged=True))
            where.create(r.TASK_PLURAL, task("one-1", "one", "create"))
        refused = run(kube, "task-status", "one", "-A")
        assert refused.returncode == 2 and "not -A" in refused.stderr and refused.stdout == ""
        ambiguous = run(kube, "describe-task", "one-1", "-A")
        assert ambiguous.returncode == 2 and ambiguous.stdout == ""
        assert f"task \"one-1\" is in several namespaces ({', '.join(sorted([kube.namespace, other]))})" \
            in ambiguous.stderr
    finally:
        drop_namespace(kube.kubeconfig, other)


def test_point_17_reconciling_says_what_happened(kube: Kube, operator: OperatorProcess, tmp_path: Path) -> None:
    deployed(kube, gate=tmp_path / "never")
    kube.create(r.INSTANCE_PLURAL, instance("idle", "flows", staged=True))  # its Assembly exists by now
    idle = kube.condition_when(r.INSTANCE_PLURAL, "idle", "Reconciling", "False")
    assert condition(idle, "Reconciling")["reason"] == "Staged"
    converged = kube.condition_when(r.INSTANCE_PLURAL, "one", "Reconciling", "False")
    assert condition(converged, "Reconciling")["reason"] == "TaskSucceeded"
    held = run(kube, "exec", "one", "hold")
    held_name = re.findall(r"^task_name: (\S+)$", held.stdout, re.M)[0]
    kube.task_when(held_name, lambda t: (t.get("status") or {}).get("state") == "executing")
    assert run(kube, "cancel-task", "one").returncode == 0
    kube.finished_task(held_name)

    def cancelled() -> dict[str, Any] | None:
        body = kube.get(r.INSTANCE_PLURAL, "one") or {}
        return body if condition(body, "Reconciling").get("reason") == "TaskCancelled" else None

    body = kube.wait("Reconciling to say the task was cancelled", cancelled)
    assert condition(body, "Reconciling")["status"] == "False"
    assert held_name in condition(body, "Reconciling")["message"]
