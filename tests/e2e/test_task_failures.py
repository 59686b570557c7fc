"""A failing step, a step timeout, a Task timeout and bad Task input, as users see them."""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance, steps_of, task
from support.operator_process import OperatorProcess


def three_stage_assembly(middle: dict[str, Any]) -> dict[str, Any]:
    return assembly(
        "failing",
        components=[component("first", "echo one"), middle, component("last", "echo never")],
        nodes={"web": ["first", middle["name"], "last"], "db": ["first"]},
        stages=[{"name": "first", "components": ["first"]}, {"name": "middle", "components": [middle["name"]]},
                {"name": "last", "components": ["last"]}],
    )


def deploy(kube: Kube, asm: dict[str, Any], name: str = "app") -> dict[str, Any]:
    kube.create(r.ASSEMBLY_PLURAL, asm)
    kube.create(r.INSTANCE_PLURAL, instance(name, asm["metadata"]["name"]))
    task_name = kube.first_task(name)
    return kube.finished_task(task_name)


def test_a_non_zero_step_fails_its_row_node_stage_and_task(kube: Kube, operator: OperatorProcess) -> None:
    middle = component("breaks", "echo before", "echo 'disk full' >&2; exit 3", "echo after")
    done = deploy(kube, three_stage_assembly(middle))
    status, steps = done["status"], steps_of(done)
    assert status["state"] == "failed"
    # stage 1 creates the nodes; "middle" is stage 3 with one node row
    assert steps["3"]["status"] == "failed" and steps["3.1"]["status"] == "failed"
    assert steps[""]["status"] == "failed"
    results = steps["3.1"]["results"]
    assert [x["returnCode"] for x in results] == [0, 3]  # the third command never ran
    assert results[1]["stderr"].strip() == "disk full"
    assert steps["3.1"]["errors"][0]["message"].endswith("syscall status = 3: disk full")
    assert "status" not in steps["4"] and "status" not in steps["4.1"]  # later rows stay blank
    assert status["failure"]["index"] == "3.1" and status["failure"]["node"] == "web"
    assert status["failure"]["returnCode"] == 3 and "disk full" in status["failure"]["stderr"]
    assert any(m["type"] == "error" and "3.1" in m["text"] for m in status["messages"])
    assert condition(done, "Completed")["status"] == "True" and condition(done, "Succeeded")["status"] == "False"
    si = kube.condition_when(r.INSTANCE_PLURAL, "app", "Stalled")
    assert condition(si, "Stalled")["reason"] == "TaskFailed"
    assert "step 3.1 on web" in condition(si, "Stalled")["message"]
    assert condition(si, "Ready")["status"] == "False"
    kube.event_seen("app", "TaskFailed", kind="Warning")


def test_a_step_past_its_timeout_is_killed_and_fails_saying_so(kube: Kube, operator: OperatorProcess) -> None:
    middle = component("slow", {"run": "sleep 30; touch slow-finished", "timeoutSeconds": 1})
    done = deploy(kube, three_stage_assembly(middle))
    row = steps_of(done)["3.1"]
    assert done["status"]["state"] == "failed"
    assert "Timeout (1 sec) for this action has been exceeded" in row["errors"][0]["message"]
    assert row["results"][0].get("returnCode") is None  # no exit status: the key is left out
    assert "finished" not in str(row["results"][0]["stdout"])


def test_a_task_past_its_own_timeout_fails(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, assembly("slowflow", components=[component("c", "true")], nodes={"n": ["c"]},
                                            stages=[{"name": "c", "components": ["c"]}],
                                            workflows=[{"name": "wait", "stages": [
                                                {"name": "long", "actions": ["c.hang"]}]}]))
    asm = kube.get(r.ASSEMBLY_PLURAL, "slowflow")
    assert asm is not None
    asm["spec"]["components"][0]["actions"] = [{"name": "hang", "steps": [{"run": "sleep 60"}]}]
    kube.patch(r.ASSEMBLY_PLURAL, "slowflow", {"spec": {"components": asm["spec"]["components"]}})
    kube.create(r.INSTANCE_PLURAL, instance("slow", "slowflow"))
    converge = kube.first_task("slow")
    assert kube.finished_task(converge)["status"]["state"] == "succeeded"
    kube.create(r.TASK_PLURAL, task("slow-wait", "slow", "wait", timeoutSeconds=2))
    done = kube.finished_task("slow-wait", timeout=30)
    assert done["status"]["state"] == "failed"
    assert "timed out after 2 s" in done["status"]["failure"]["message"]
    assert steps_of(done)["1.1"]["status"] == "failed"


def test_bad_task_input_fails_before_anything_runs(kube: Kube, operator: OperatorProcess) -> None:
    flow = {"name": "load", "params": ["name"], "stages": [{"name": "load {{name}}", "actions": ["c[{{name}}].go"]}]}
    asm = assembly("params", components=[component("c", "true", actions={"go": ["echo {{name}} {{nope}}"]})],
                   nodes={"n": ["c[x]"]}, stages=[{"name": "c", "components": ["c"]}], workflows=[flow])
    kube.create(r.ASSEMBLY_PLURAL, asm)
    kube.create(r.INSTANCE_PLURAL, instance("p", "params", staged=True))
    bad_value = task("p-bad", "p", "load", params={"name": "x; rm -rf /"})
    try:
        kube.create(r.TASK_PLURAL, bad_value)
    except ApiException as refused:  # the API server refuses it by the CRD's pattern
        assert refused.status == 422
        assert [c["field"] for c in json.loads(refused.body)["details"]["causes"]] == ["spec.params.name"]
    else:
        done = kube.finished_task("p-bad")
        assert done["status"]["state"] == "failed"
        assert "param 'name'" in done["status"]["failure"]["message"]
        assert not done["status"].get("steps")
    kube.create(r.TASK_PLURAL, task("p-unknown", "p", "load", params={"name": "x"}))
    done = kube.finished_task("p-unknown")
    assert done["status"]["state"] == "failed"
    assert "unknown variable 'nope' in 'echo {{name}} {{nope}}'" in done["status"]["failure"]["message"]


def test_point_18_a_converge_task_failing_validation_says_why_on_its_instance(
        kube: Kube, operator: OperatorProcess) -> None:
    broken = assembly("unknown-var", components=[component("c", "echo {{nope}}")], nodes={"n": ["c"]},
                      stages=[{"name": "c", "components": ["c"]}])
    kube.create(r.ASSEMBLY_PLURAL, broken)
    kube.create(r.INSTANCE_PLURAL, instance("v", "unknown-var"))
    done = kube.finished_task(kube.first_task("v"))
    assert done["status"]["state"] == "failed"
    si = kube.condition_when(r.INSTANCE_PLURAL, "v", "Stalled")
    message = condition(si, "Stalled")["message"]
    assert "task is invalid: unknown variable 'nope' in 'echo {{nope}}'" in message
    assert "step :" not in message and "step  " not in message
    kube.event_seen("v", "TaskFailed", text="unknown variable 'nope'", kind="Warning")  # on the instance too
