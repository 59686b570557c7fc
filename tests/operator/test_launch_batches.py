"""Launch batches: how nodes to create are cut into RunInstances batches before any launch, and how
a batch's instances are told apart afterwards (node tag, else token and launch index)."""

from __future__ import annotations

import itertools

from dtk_api import resources as r
from dtk_operator.aws.ec2 import Instance
from dtk_operator.engine.batches import batches_of, plan_batches
from dtk_operator.targets.base import NodeFacts
from dtk_operator.targets.ec2_launch import owned_by


def tokens() -> itertools.count[int]:
    return itertools.count(1)


def plan(nodes: list[str], known: dict[str, NodeFacts] | None = None, size: int = 50) -> list[NodeFacts]:
    counter = tokens()
    return plan_batches(nodes, known or {}, lambda: f"t{next(counter)}", size=size)


def test_a_120_member_group_is_three_batches_in_row_order_and_a_single_node_is_alone() -> None:
    members = [f"slaves:{i}" for i in range(1, 121)]
    records = {f.name: f for f in plan(["master", *members])}
    assert records["master"].token == "t1" and records["master"].launch_index == 0
    batches = batches_of(records)
    assert [len(b) for b in batches.values()] == [1, 50, 50, 20]
    assert batches[records["slaves:51"].token][0] == "slaves:51"
    assert records["slaves:120"].launch_index == 19 and records["slaves:120"].group == "slaves"
    assert all(f.state == "creating" for f in records.values())


def test_groups_never_share_a_batch() -> None:
    records = plan(["a:1", "b:1", "a:2"])
    assert batches_of({f.name: f for f in records}) == {"t1": ("a:1", "a:2"), "t2": ("b:1",)}


def test_recorded_nodes_keep_their_token_and_index_on_resume() -> None:
    known = {f.name: f for f in plan(["g:1", "g:2", "g:3"])}
    assert plan(["g:1", "g:2", "g:3", "g:4"], known) == [
        NodeFacts(name="g:4", group="g", state="creating", token="t1", launch_index=0)]
    assert batches_of(known) == {"t1": ("g:1", "g:2", "g:3")}


def test_a_node_recorded_running_keeps_its_token_too() -> None:
    known = {"m": NodeFacts(name="m", state="running", token="old", instance_id="i-1")}
    assert plan(["m"], known) == []


def test_a_record_from_before_batches_is_left_a_batch_of_one() -> None:
    assert batches_of({"m": NodeFacts(name="m", state="creating", token="old")}) == {}


def machine(instance_id: str, token: str, index: int, node: str = "", state: str = "running") -> Instance:
    tags = {r.TAG_TOKEN: token, **({r.TAG_NODE: node} if node else {})}
    return Instance(instance_id=instance_id, state=state, tags=tags, launch_index=index)


def test_instances_are_named_by_node_tag_else_launch_index() -> None:
    batch = ("g:1", "g:2", "g:3")
    seen = [machine("i-a", "T", 0, node="g:1"), machine("i-b", "T", 1), machine("i-c", "T", 2),
            machine("i-x", "other", 0), machine("i-d", "T", 9)]
    owned = owned_by(seen, "T", batch)
    assert {name: i.instance_id for name, i in owned.items()} == {"g:1": "i-a", "g:2": "i-b", "g:3": "i-c"}


def test_gone_instances_are_nobodys_and_a_relaunch_is_found_by_its_node_tag() -> None:
    batch = ("g:1", "g:2")
    seen = [machine("i-a", "T", 0, node="g:1"), machine("i-b", "T", 1, node="g:2", state="terminated"),
            machine("i-c", "T-1", 0, node="g:2")]
    assert {n: i.instance_id for n, i in owned_by(seen, "T", batch).items()} == {"g:1": "i-a", "g:2": "i-c"}


def test_a_node_tag_outranks_a_launch_index() -> None:
    seen = [machine("i-old", "T", 0), machine("i-new", "T-0", 0, node="g:1")]
    assert owned_by(seen, "T", ("g:1", "g:2"))["g:1"].instance_id == "i-new"
