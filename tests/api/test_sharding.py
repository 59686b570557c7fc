"""A big Task's rows split between the Task and its TaskShards, and merged back (SPEC 11)."""

from __future__ import annotations

import json
from typing import Any

from test_plan import plan_for, spark_spec

from dtk_api import sharding
from dtk_api.bounds import bounded
from dtk_api.task_status import TaskStatus
from dtk_api.task_wire import step_to_raw, to_status

MEMBERS = 5000


def rows_of(members: int) -> list[Any]:
    plan = plan_for(spark_spec(), cardinalities={"slaves": members})
    return [step_to_raw(step) for step in plan.steps]


def test_a_small_task_keeps_every_row_and_has_no_shards() -> None:
    rows = rows_of(2)  # the seed's spark Task: 37 rows
    kept, shards = sharding.split("spark-cluster1-1", rows)
    assert kept == rows and shards == []


def test_a_5000_member_task_keeps_its_stage_rows_and_shards_hold_at_most_100_rows_of_one_stage() -> None:
    rows = rows_of(MEMBERS)
    kept, shards = sharding.split("spark-cluster1-1", rows)
    assert [row["index"] for row in kept] == [""] + [str(n) for n in range(1, 13)]
    assert all(len(shard.steps) <= sharding.SHARD_ROWS for shard in shards)
    assert all({str(row["index"]).split(".")[0] for row in shard.steps} == {shard.stage} for shard in shards)
    assert sum(len(shard.steps) for shard in shards) + len(kept) == len(rows)
    assert len({shard.name for shard in shards}) == len(shards)
    assert "nodes" not in kept[1]  # 5,001 node names would not fit: rebuilt from the create_node rows
    task_bytes = len(json.dumps(bounded({"steps": kept})))
    largest_shard = max(len(json.dumps({"steps": list(shard.steps)})) for shard in shards)
    assert task_bytes < 16 * 1024 and largest_shard < 32 * 1024


def test_merging_the_shards_back_gives_the_whole_tree_in_display_order_whatever_the_list_order() -> None:
    rows = rows_of(MEMBERS)
    kept, shards = sharding.split("spark-cluster1-1", rows)
    listed = [list(shard.steps) for shard in reversed(shards)]  # a list call promises no order
    assert sharding.merge(kept, listed) == rows


def test_the_layout_depends_on_the_rows_not_their_state() -> None:
    plan = plan_for(spark_spec(), cardinalities={"slaves": 600})
    before = to_status(TaskStatus(steps=plan.steps))["steps"]
    done = [{**row, "status": "succeeded"} for row in before]
    names = [[shard.name for shard in sharding.split("t", rows)[1]] for rows in (before, done)]
    assert names[0] == names[1]


def test_shard_names_stay_valid_object_names_for_the_longest_task_name() -> None:
    long_name = "a" * 253
    names = {sharding.shard_name(long_name, str(stage), chunk) for stage in range(1, 201) for chunk in range(50)}
    assert len(names) == 200 * 50
    assert all(len(name) <= 253 and name[-1].isalnum() for name in names)
    assert sharding.shard_name("fleet1-1", "3", 7) == "fleet1-1-3-7"
