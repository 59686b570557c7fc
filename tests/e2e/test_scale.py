"""Issue 10: a 5,000-member group converges and every object stays under 256 KiB (SPEC 11).

The API server validates every write against the CRDs (the emulator with validation on, or a
real cluster). The largest version of every object the operator wrote is read from watches on
all four kinds it writes; the figures are printed (run with -s to see them).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from dtk_api.node_shards import node_shard_name
from dtk_api.sharding import shard_name
from support.cluster import Kube
from support.manifests import assembly, component, instance, task
from support.operator_process import OperatorProcess
from support.plugin import dtk
from support.sizes import largest_objects
from support.terminal import Terminal

MEMBERS = 5000
OBJECT_LIMIT = 256 * 1024
WATCHED = (r.TASK_PLURAL, r.SHARD_PLURAL, r.INSTANCE_PLURAL, r.NODE_SHARD_PLURAL)


def fleet() -> dict[str, Any]:
    return assembly("fleet", components=[component("base", "echo ready on $DTK_NODE")], nodes={"head": ["base"]},
                    groups={"members": (MEMBERS, ["base"])}, stages=[{"name": "base", "components": ["base"]}])


def test_a_5000_member_group_converges_every_object_stays_under_256_kib_and_every_row_is_shown(
    kube: Kube, operator: OperatorProcess
) -> None:
    with largest_objects(kube.kubeconfig, kube.namespace, WATCHED) as largest:
        started = time.monotonic()
        kube.create(r.ASSEMBLY_PLURAL, fleet())
        kube.create(r.INSTANCE_PLURAL, instance("fleet1", "fleet"))
        name = kube.first_task("fleet1")
        task = kube.finished_task(name, timeout=600)
        converged = time.monotonic() - started
    size, which = largest.overall()
    print(f"\n{MEMBERS} members converged in {converged:.1f} s; largest object written: {size} bytes ({which}); "
          f"per kind: {largest.sizes}; versions seen: {largest.versions}")
    assert task["status"]["state"] == "succeeded", task["status"].get("failure")
    assert task["status"]["progress"] == {"completed": 2 * (MEMBERS + 1), "total": 2 * (MEMBERS + 1)}
    assert size < OBJECT_LIMIT, f"{which} was {size} bytes"
    assert largest.sizes[r.SHARD_PLURAL][0] > 0 and largest.sizes[r.NODE_SHARD_PLURAL][0] > 0

    table = dtk(kube.kubeconfig, kube.namespace, "task-status", "fleet1", timeout=120)
    assert table.returncode == 0, table.stderr
    member_rows = re.findall(r"\| members:(\d+) +\|", table.stdout)
    # every member twice (created, then configured), each once per stage, in member order
    assert member_rows == [str(n) for n in range(1, MEMBERS + 1)] * 2
    folded = dtk(kube.kubeconfig, kube.namespace, "task-status", "fleet1", "-s", timeout=120)
    assert folded.returncode == 0, folded.stderr
    # -s folds the group's members into its configure_nodegroup row (SPEC 8); node creation has
    # no group row, so its create_node rows stay
    assert f"| succeeded({MEMBERS}) |" in folded.stdout
    assert re.findall(r"\| members:(\d+) +\|", folded.stdout) == [str(n) for n in range(1, MEMBERS + 1)]

    described = dtk(kube.kubeconfig, kube.namespace, "describe-task", name, timeout=60)
    assert f"Num: {2 * (MEMBERS + 1)}/{2 * (MEMBERS + 1)} (100%)" in described.stdout, described

    nodes = dtk(kube.kubeconfig, kube.namespace, "list-nodes", "fleet1", "-o", "json", timeout=120)
    assert nodes.returncode == 0, nodes.stderr
    shown_nodes = [node["name"] for node in json.loads(nodes.stdout)]  # in order, as the operator records them
    assert shown_nodes == ["head", *(f"members:{n}" for n in range(1, MEMBERS + 1))]

    deleting = time.monotonic()
    kube.delete(r.INSTANCE_PLURAL, "fleet1")
    kube.wait("the instance gone", lambda: kube.get(r.INSTANCE_PLURAL, "fleet1") is None or None, timeout=120)
    print(f"deleting the instance took {time.monotonic() - deleting:.1f} s")
    kube.wait("its shards collected", lambda: not (kube.list(r.NODE_SHARD_PLURAL) or kube.list(r.SHARD_PLURAL)) or None,
              timeout=60)


def test_an_instance_of_10001_nodes_is_refused_saying_why_and_10000_are_accepted(
    kube: Kube, operator: OperatorProcess
) -> None:
    two_groups = assembly("huge", components=[component("base", "true")], nodes={"head": ["base"]},
                          groups={"a": (5000, ["base"]), "b": (5000, ["base"])},
                          stages=[{"name": "base", "components": ["base"]}])
    kube.create(r.ASSEMBLY_PLURAL, two_groups)  # each group within the schema's 5,000
    kube.create(r.INSTANCE_PLURAL, instance("huge1", "huge"))
    stalled = kube.condition_when(r.INSTANCE_PLURAL, "huge1", "Stalled")
    message = next(c["message"] for c in stalled["status"]["conditions"] if c["type"] == "Stalled")
    assert message.startswith("the instance would have 10,001 nodes (1 single, groups: a 5,000, b 5,000); "
                              "at most 10,000 nodes per instance"), message
    assert kube.event_seen("huge1", "InvalidSpec", text="10,001 nodes", kind="Warning")
    assert kube.tasks_of("huge1") == [] and not (stalled["status"].get("nodes") or [])
    shown = dtk(kube.kubeconfig, kube.namespace, "task-status", "huge1")
    assert shown.returncode == 2 and "10,001 nodes" in shown.stderr, shown
    # one member fewer, staged so that nothing runs: the instance is no longer stalled
    fewer = {"staged": True, "nodeGroups": [{"name": "b", "cardinality": 4999}]}
    kube.patch(r.INSTANCE_PLURAL, "huge1", {"spec": fewer})
    kube.condition_when(r.INSTANCE_PLURAL, "huge1", "Stalled", status="False")


def merged_rows(kube: Kube, instance_name: str, task_name: str) -> dict[str, dict[str, Any]]:
    """The Task's whole tree as kubectl dtk reads it back (the Task and its TaskShards)."""
    shown = dtk(kube.kubeconfig, kube.namespace, "task-status", instance_name, "--task", task_name, "-o", "json")
    assert shown.returncode in (0, 1), shown.stderr
    return {row["index"]: row for row in json.loads(shown.stdout)["status"]["steps"]}


def test_point_5_a_sharded_task_resumes_after_sigkill_without_rerunning_a_member_and_cancels_in_its_shards(
    kube: Kube, operator: OperatorProcess, tmp_path: Path
) -> None:
    members = 450  # two stages of 450 member rows: 904 rows, sharded (over 400)
    # Gates, so that what each part needs is running when it acts, however fast the host: members
    # over 300 wait until `go` exists (the first run is killed while they wait), and, while `slow`
    # exists, members over 100 wait (the second run is cancelled while they wait). A waiting step
    # has not yet written its `run` line.
    go, slow = tmp_path / "go", tmp_path / "slow"
    step = (f"n=${{DTK_NODE#m:}}; if [ $n -gt 300 ] && [ ! -e {go} ]; then sleep 120; fi; "
            f"if [ $n -gt 100 ] && [ -e {slow} ]; then sleep 120; fi; echo run >> runs")
    kube.create(r.ASSEMBLY_PLURAL, assembly("crowd", components=[component("base", step)], nodes={},
                                            groups={"m": (members, ["base"])},
                                            stages=[{"name": "base", "components": ["base"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("crowd1", "crowd"))
    name = kube.first_task("crowd1")
    kube.task_when(name, lambda t: (t.get("status") or {}).get("progress", {}).get("completed", 0) == members + 300,
                   what="members 1-300 of the configure stage to be done", timeout=120)
    operator.kill()
    go.touch()
    assert kube.list(r.SHARD_PLURAL, f"{r.TASK_LABEL}={name}"), "a 904-row Task has shards"
    stored = merged_rows(kube, "crowd1", name)
    done_before = {row["node"] for index, row in stored.items()
                   if index.startswith("2.1.") and row.get("status") == "succeeded"}
    assert len(done_before) == 300

    # The live view reads the shards as well: the Task alone holds 3 rows, which would fit; all
    # of them do not fit a 50-line terminal, so it shows a window around where the run stopped.
    screen = Terminal(kube, "task-status", "crowd1", "--wait", "--task", name)
    screen.expect(rf"\| +2\.1\.\d+ configure_node \| (succeeded|executing) \| m:\d+ .*\n(.*\n)*"
                  rf"rows \d+-\d+ of {len(stored)} shown")
    screen.send(b"\x03")
    assert screen.wait(timeout=10) == 130

    operator.start()
    finished = kube.finished_task(name, timeout=180)
    assert finished["status"]["state"] == "succeeded", finished["status"].get("failure")
    rows = merged_rows(kube, "crowd1", name)
    assert [rows[f"2.1.{n}"]["status"] for n in range(1, members + 1)] == ["succeeded"] * members
    node_dirs = {p.name.replace("_", ":"): p for p in (operator.local_root / kube.namespace / "crowd1").iterdir()}
    runs = {node: len((path / "runs").read_text().splitlines()) for node, path in node_dirs.items()}
    assert len(runs) == members
    assert [node for node in done_before if runs[node] != 1] == [], "a member stored succeeded ran again"

    # The stream replays it whole: the creation stage names every node (rebuilt from its rows).
    stream = dtk(kube.kubeconfig, kube.namespace, "task-status", "crowd1", "--task", name, "-m", "stream")
    assert stream.returncode == 0, stream.stderr
    created = stream.stdout.split("OPERATION: CreateNodes\n", 1)[1].split("STATUS:", 1)[0]
    assert created.splitlines() == [f"  m:{n}" for n in range(1, members + 1)]

    # A second converge (453 rows, still sharded): cancelled mid-stage, its running rows say so.
    slow.touch()
    kube.create(r.TASK_PLURAL, task("crowd1-again", "crowd1", "create"))
    kube.task_when("crowd1-again", lambda t: (t.get("status") or {}).get("progress", {}).get("completed", 0) >= 100,
                   what="the second converge's members 1-100 to be done", timeout=60)
    kube.patch(r.TASK_PLURAL, "crowd1-again", {"spec": {"cancel": True}})
    cancelled = kube.finished_task("crowd1-again", timeout=30)
    slow.unlink()
    assert cancelled["status"]["state"] == "cancelled"
    after = merged_rows(kube, "crowd1", "crowd1-again")
    statuses = Counter(row.get("status", "") for index, row in after.items() if index.startswith("1.1."))
    assert "executing" not in statuses and statuses["cancelled"] >= 1 and statuses["succeeded"] >= 100, statuses

    # Scaled down to 150 members (151 nodes in all, under 200): the records move back into the
    # instance's status and its NodeShards are deleted.
    assert kube.list(r.NODE_SHARD_PLURAL, f"{r.INSTANCE_LABEL}=crowd1")
    kube.patch(r.INSTANCE_PLURAL, "crowd1", {"spec": {"nodeGroups": [{"name": "m", "cardinality": 150}]}})
    kube.wait("the node records back in the instance", lambda: not kube.list(r.NODE_SHARD_PLURAL) and len(
        ((kube.get(r.INSTANCE_PLURAL, "crowd1") or {}).get("status") or {}).get("nodes") or []) == 150, timeout=60)
    instance_status = (kube.get(r.INSTANCE_PLURAL, "crowd1") or {})["status"]
    assert instance_status.get("nodeShards", 0) == 0
    assert [n["name"] for n in instance_status["nodes"]] == [f"m:{n}" for n in range(1, 151)]


def test_point_6_the_local_target_runs_at_most_its_bound_of_steps_at_once_and_a_waiting_row_is_not_executing(
    kube: Kube, tmp_path: Path
) -> None:
    bound, members = 3, 12
    running, counts = tmp_path / "running", tmp_path / "counts"
    running.mkdir()
    # Each step notes how many steps run at that moment (itself included), then stays a second.
    step = f"touch {running}/$$ && ls {running} | wc -l >> {counts} && sleep 1; rm -f {running}/$$"
    kube.create(r.ASSEMBLY_PLURAL, assembly("row", components=[component("base", step)], nodes={},
                                            groups={"m": (members, ["base"])},
                                            stages=[{"name": "base", "components": ["base"]}]))
    operator = OperatorProcess(kubeconfig=kube.kubeconfig, namespace=kube.namespace, workdir=tmp_path / "op",
                               extra_args=["--local-max-processes", str(bound)])
    (tmp_path / "op").mkdir()
    operator.start()
    try:
        kube.create(r.INSTANCE_PLURAL, instance("row1", "row"))
        name = kube.first_task("row1")
        seen: list[Counter[str]] = []

        def configure_rows(task: dict[str, Any]) -> bool:
            rows = (task.get("status") or {}).get("steps") or []
            seen.append(Counter(row.get("status", "") for row in rows if row["index"].startswith("2.1.")))
            return (task.get("status") or {}).get("state") in ("succeeded", "failed", "cancelled")

        finished = kube.task_when(name, configure_rows, timeout=120, what="the task to finish")
    finally:
        operator.stop()
    assert finished["status"]["state"] == "succeeded", finished["status"].get("failure")
    at_once = [int(line) for line in counts.read_text().split()]
    assert len(at_once) == members and max(at_once) == bound, at_once  # bounded, yet not one by one
    # while rows wait for a slot they are not `executing`: the Task never shows more than the bound
    assert max(c["executing"] for c in seen) <= bound, seen
    assert any(c["executing"] and c[""] for c in seen), seen  # some running while others wait
    # the waiting rows take their turn in the order the stage lists them (docs/scale.md)
    started = [row["startedAt"] for row in finished["status"]["steps"] if row["index"].startswith("2.1.")]
    assert len(started) == members and started == sorted(started), started


def crowd(name: str, members: int) -> dict[str, Any]:
    return assembly(name, components=[component("base", "true")], nodes={}, groups={"m": (members, ["base"])},
                    stages=[{"name": "base", "components": ["base"]}])


def owners(found: list[dict[str, Any]]) -> set[str]:
    return {o["uid"] for shard in found for o in shard["metadata"].get("ownerReferences") or []}


def test_a_sharded_task_of_an_instance_with_the_longest_name_converges_and_is_shown_whole(
    kube: Kube, operator: OperatorProcess
) -> None:
    members = 200  # 404 rows: sharded
    longest = ("long-" + "n" * 63)[:63]  # the most a ServiceInstance's name may have
    kube.create(r.ASSEMBLY_PLURAL, crowd("wide", members))
    kube.create(r.INSTANCE_PLURAL, instance(longest, "wide"))
    name = kube.first_task(longest)
    assert len(name) > 63  # more than a label value holds: its shards' task label is shortened
    finished = kube.finished_task(name, timeout=120)
    assert finished["status"]["state"] == "succeeded", finished["status"].get("failure")
    shards = kube.list(r.SHARD_PLURAL, f"{r.TASK_LABEL}={r.label_value(name)}")
    assert shards and owners(shards) == {finished["metadata"]["uid"]}
    rows = merged_rows(kube, longest, name)
    assert [rows[f"2.1.{n}"]["status"] for n in range(1, members + 1)] == ["succeeded"] * members


def test_shards_left_by_a_deleted_namesake_not_yet_collected_are_taken_over(
    kube: Kube, operator: OperatorProcess
) -> None:
    """`kubectl delete` then `apply` of an instance: on a cluster the garbage collector deletes
    the old instance's shards (and its Tasks') some moments later, and the new objects have the
    same names. Made here by hand, owned by an instance that is gone."""
    members = 250  # over 200 nodes: the members' records live in a NodeShard; 504 rows: TaskShards
    gone = {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "name": "dup",
            "uid": "0badc0de-0000-4000-8000-000000000000", "controller": True}
    kube.create(r.NODE_SHARD_PLURAL, {
        "apiVersion": r.API_VERSION, "kind": r.NODE_SHARD_KIND,
        "metadata": {"name": node_shard_name("dup", "m", 0), "labels": {r.INSTANCE_LABEL: "dup"},
                     "ownerReferences": [gone]},
        "instanceRef": {"name": "dup"}, "group": "m", "nodes": [{"name": "m:1"}]})
    kube.create(r.SHARD_PLURAL, {
        "apiVersion": r.API_VERSION, "kind": r.SHARD_KIND,
        "metadata": {"name": shard_name("dup-1", "2", 0), "labels": {r.TASK_LABEL: "dup-1"},
                     "ownerReferences": [{**gone, "kind": r.TASK_KIND, "name": "dup-1"}]},
        "taskRef": {"name": "dup-1"}, "stage": "2", "steps": [{"index": "2.1", "kind": "stage", "name": "old"}]})

    kube.create(r.ASSEMBLY_PLURAL, crowd("dups", members))
    kube.create(r.INSTANCE_PLURAL, instance("dup", "dups"))
    assert kube.first_task("dup") == "dup-1"
    finished = kube.finished_task("dup-1", timeout=120)
    assert finished["status"]["state"] == "succeeded", finished["status"].get("failure")
    made = kube.get(r.INSTANCE_PLURAL, "dup") or {}
    assert owners(kube.list(r.NODE_SHARD_PLURAL, f"{r.INSTANCE_LABEL}=dup")) == {made["metadata"]["uid"]}
    assert owners(kube.list(r.SHARD_PLURAL, f"{r.TASK_LABEL}=dup-1")) == {finished["metadata"]["uid"]}
    rows = merged_rows(kube, "dup", "dup-1")
    assert [rows[f"2.1.{n}"]["status"] for n in range(1, members + 1)] == ["succeeded"] * members
    nodes = dtk(kube.kubeconfig, kube.namespace, "list-nodes", "dup", "-o", "json")
    assert nodes.returncode == 0, nodes.stderr
    assert re.findall(r'"name": "(m:\d+)"', nodes.stdout) == [f"m:{n}" for n in range(1, members + 1)]
