"""`list-assemblies` and `ls` render seed 001's tables from objects shaped like the seed's.

The rows come from the same pure functions the commands use, drawn by the same box renderer.
Our IDs are 8 hex digits of a uid where DTK showed 10-digit numbers, so the ID column (values
and width) is masked on both sides; every other byte is compared, and the IDs are checked apart.
"""

# ruff: noqa: E501  (golden lines are the seeds' own, up to 131 characters wide, kept verbatim)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubectl_dtk.commands.instances.rows import (
    ASSEMBLY_HEADERS,
    INSTANCE_HEADERS,
    NODE_HEADERS,
    assembly_row,
    instance_row,
    listing_order,
    node_rows,
    with_namespaces,
)
from kubectl_dtk.commands.tasks.rows import TASK_HEADERS, task_row
from kubectl_dtk.views.box import render_box_table
from plugin.seed_listings import LIST_ASSEMBLIES, LS_DEPLOYED, LS_DEPLOYING, LS_WITH_STAGED

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

FOOTER_TWO = "2 rows in set\n"

UIDS = {"spark-cluster": "5e6f7a8b-0000-4000-8000-000000000001", "spark-cluster1": "1c2d3e4f-0000-4000-8000-000000000002",
        "spark-cluster2": "9a8b7c6d-0000-4000-8000-000000000003"}


def mask_ids(table: str) -> str:
    """The first column of every box line becomes `#`: its values and its width."""
    return "\n".join(line[0] + "#" + line[line.index(line[0], 1):] if line[:1] in ("+", "|") else line
                     for line in table.split("\n"))


def spark_assembly() -> dict[str, Any]:
    return {"apiVersion": "dtk.io/v1alpha1", "kind": "Assembly",
            "metadata": {"name": "spark-cluster", "uid": UIDS["spark-cluster"]},
            "spec": {"module": "bigtop:spark", "template": "cluster", "description": "spark cluster",
                     "nodes": [{"name": "master", "components": ["bigtop_base"]}],
                     "nodeGroups": [{"name": "slaves", "cardinality": 2, "components": ["bigtop_base"]}]}}


def spark_instance(name: str, *, created: str, phase: str, last_run: str | None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "assemblyTemplate": "bigtop:spark/assembly/cluster", "nodeCount": 3}
    if last_run:
        status["lastRun"] = {"task": f"{name}-1", "state": last_run}
    return {"apiVersion": "dtk.io/v1alpha1", "kind": "ServiceInstance",
            "metadata": {"name": name, "namespace": "default", "uid": UIDS[name],
                         "creationTimestamp": f"2015-11-26T{created}Z"},
            "spec": {"assemblyRef": {"name": "spark-cluster"}, "staged": last_run is None,
                     "targetRef": {"name": "vpc-us-east-1"}},
            "status": status}


def ls_table(*instances: dict[str, Any]) -> str:
    return render_box_table(INSTANCE_HEADERS, [instance_row(i) for i in sorted(instances, key=listing_order)])


def ids_in(table: str) -> list[str]:
    return [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("|")][1:]


def test_goldens_are_verbatim_from_the_seed() -> None:
    found = sorted(SEEDS.glob("001_*.txt"))
    if not found:
        pytest.skip(f"seed 001 not available at {SEEDS}")
    seed = found[0].read_text()
    assert all(golden in seed for golden in (LIST_ASSEMBLIES, LS_DEPLOYING, LS_DEPLOYED, LS_WITH_STAGED))


def test_list_assemblies_is_the_seeds_table() -> None:
    rendered = render_box_table(ASSEMBLY_HEADERS, [assembly_row(spark_assembly())])
    assert mask_ids(rendered) == mask_ids(LIST_ASSEMBLIES)
    assert ids_in(rendered) == ["5e6f7a8b"]


def test_ls_while_deploying_is_the_seeds_table() -> None:
    rendered = ls_table(spark_instance("spark-cluster1", created="02:03:51.870", phase="running", last_run="executing"))
    assert mask_ids(rendered) == mask_ids(LS_DEPLOYING)
    assert ids_in(rendered) == ["1c2d3e4f"]


def test_ls_after_deploying_is_the_seeds_table() -> None:
    rendered = ls_table(spark_instance("spark-cluster1", created="17:16:53", phase="running", last_run="succeeded"))
    assert mask_ids(rendered) == mask_ids(LS_DEPLOYED)


def test_a_staged_instance_is_pending_with_a_blank_last_run() -> None:
    staged = spark_instance("spark-cluster2", created="18:03:51", phase="pending", last_run=None)
    deployed = spark_instance("spark-cluster1", created="17:16:53", phase="running", last_run="succeeded")
    rendered = ls_table(staged, deployed)  # listed in creation order whatever order the API returns
    assert mask_ids(rendered) == mask_ids(LS_WITH_STAGED + FOOTER_TWO)
    assert ids_in(rendered) == ["1c2d3e4f", "9a8b7c6d"]


def test_nodes_count_groups_at_their_cardinality() -> None:
    bigger = spark_assembly()
    bigger["spec"]["nodeGroups"] += [{"name": "edge", "components": []}, {"name": "spare", "cardinality": 0}]
    assert assembly_row(bigger)[2] == "4"  # 1 master + 2 slaves + edge (cardinality 1 when unset) + 0


def test_all_namespaces_puts_the_namespace_first() -> None:
    body = spark_instance("spark-cluster1", created="17:16:53", phase="running", last_run="succeeded")
    headers, rows = with_namespaces(INSTANCE_HEADERS, [instance_row(body)], [body])
    assert headers[:2] == ("NAMESPACE", "ID") and rows[0][:3] == ("default", "1c2d3e4f", "spark-cluster1")


def test_list_nodes_rows_come_from_the_status_nodes() -> None:
    body = spark_instance("spark-cluster1", created="17:16:53", phase="running", last_run="succeeded")
    body["status"]["nodes"] = [
        {"name": "master", "instanceId": "i-0abc", "state": "running", "instanceType": "m5.large", "image": "ami-0abc",
         "dnsName": "ec2-1-2-3-4.compute-1.amazonaws.com"},
        {"name": "slaves:1", "group": "slaves", "state": "pending", "instanceType": "m5.large", "image": "ami-0abc"},
    ]
    rows = node_rows(body)
    assert [row[1:] for row in rows] == [
        ("master", "i-0abc", "m5.large", "ami-0abc", "running", "ec2-1-2-3-4.compute-1.amazonaws.com"),
        ("slaves:1", "", "m5.large", "ami-0abc", "pending", ""),
    ]
    ids = [row[0] for row in rows]
    assert len(set(ids)) == 2 and all(len(i) == 8 and int(i, 16) >= 0 for i in ids)
    assert node_rows(body) == rows  # stable: the same node keeps its ID
    assert render_box_table(NODE_HEADERS, rows).splitlines()[1] == (
        "| ID       | NAME     | INSTANCE ID | SIZE     | OS       | OP STATUS | DNS NAME                            |")


def task(workflow: str, state: str | None, **extra: Any) -> dict[str, Any]:
    status = {"state": state, "startedAt": "2015-11-26T17:16:55.123Z", **extra} if state else {}
    return {"metadata": {"name": "t", "uid": "0badcafe-1"}, "spec": {"workflow": workflow, "message": "first deploy"},
            "status": status}


def test_list_tasks_rows_show_the_converge_by_its_display_name_and_why_a_task_failed() -> None:
    done = task("create", "succeeded", endedAt="2015-11-26T17:22:13.900Z")
    assert task_row(done) == ("0badcafe", "succeeded", "assembly_converge", "17:16:55 26/11/15", "17:22:13 26/11/15",
                              "first deploy")
    failed = task("load_dataset", "failed", failure={"index": "1.1", "node": "master", "message": "exit 3\nmore"})
    assert task_row(failed)[2] == "load_dataset"
    assert task_row(failed)[5] == "first deploy (failed at 1.1 on master: exit 3)"
    waiting = task("create", None)
    assert task_row(waiting)[1:4] == ("pending", "assembly_converge", "")
    assert render_box_table(TASK_HEADERS, [task_row(done)]).splitlines()[1] == (
        "| ID       | STATUS    | TASK TYPE         | START             | END               | MESSAGE      |")
