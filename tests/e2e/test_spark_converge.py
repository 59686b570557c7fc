"""The seed's spark assembly deployed on the local target, through the API and a real operator."""

from __future__ import annotations

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import condition, example, steps_of
from support.operator_process import OperatorProcess

SEED_SHAPE = [
    ("", "task", "assembly_converge", ""), ("1", "stage", "create_nodes_stage", ""),
    ("1.1", "create_node", "create_node", "master"), ("1.2", "create_node", "create_node", "slaves:1"),
    ("1.3", "create_node", "create_node", "slaves:2"),
]


def test_spark_cluster_converges_to_the_seed_tree(kube: Kube, operator: OperatorProcess) -> None:
    for doc in example("spark-cluster.yaml"):
        kube.create(r.ASSEMBLY_PLURAL if doc["kind"] == "Assembly" else r.INSTANCE_PLURAL, doc)
    task_name = kube.first_task("spark-cluster1")
    task = kube.finished_task(task_name)
    status = task["status"]
    assert status["state"] == "succeeded", status.get("failure")
    steps = status["steps"]
    assert len(steps) == 37
    assert [(s["index"], s["kind"], s["name"], s.get("node", "")) for s in steps[:5]] == SEED_SHAPE
    assert all(s["status"] == "succeeded" for s in steps)
    assert steps[-2]["name"] == "component gitarchive[mar01]"
    assert status["progress"] == {"completed": 20, "total": 20}
    smoke = steps_of(task)["7.1"]["results"]
    assert smoke[0]["run"] == 'echo "namenode port=8020"' and smoke[0]["stdout"].strip() == "namenode port=8020"
    assert condition(task, "Completed")["status"] == "True" and condition(task, "Succeeded")["status"] == "True"
    assert task["metadata"]["labels"][r.INSTANCE_LABEL] == "spark-cluster1"
    si = kube.condition_when(r.INSTANCE_PLURAL, "spark-cluster1", "Ready")
    assert si["status"]["phase"] == "running"
    assert si["status"]["lastRun"] == {"task": task_name, "state": "succeeded"}
    assert si["status"]["assemblyTemplate"] == "bigtop:spark/assembly/cluster"
    assert [n["name"] for n in si["status"]["nodes"]] == ["master", "slaves:1", "slaves:2"]
    assert si["status"]["observedGeneration"] == si["metadata"]["generation"]
    assert condition(si, "Stalled")["status"] == "False" and condition(si, "Reconciling")["status"] == "False"
    kube.event_seen(task_name, "TaskStarted")
    kube.event_seen(task_name, "TaskSucceeded")
    # The slave's worker step got the master's address through {{nodes.master.privateIp}}.
    worker = steps_of(task)["11.1.1"]["results"][0]
    assert worker["stdout"].strip() == "spark worker slaves:1 -> spark://127.0.0.1:7077"
    metrics = operator.metrics()
    assert metrics[("dtk_tasks_total", (("state", "succeeded"), ("workflow", "create")))] == 1
    assert metrics[("dtk_task_duration_seconds_count", (("state", "succeeded"), ("workflow", "create")))] == 1
    assert metrics[("dtk_stage_duration_seconds_count", (("status", "succeeded"), ("workflow", "create")))] == 12
    assert metrics[("dtk_steps_total", (("kind", "configure_node"), ("status", "succeeded")))] == 15
    assert metrics[("dtk_nodes", (("instance", "spark-cluster1"), ("namespace", kube.namespace),
                                  ("state", "running")))] == 3
    assert metrics[("dtk_status_writes_total", (("kind", "Task"),))] >= 3
