"""Where a big instance's node records live, and how they come back in one piece (SPEC 11)."""

from __future__ import annotations

from dtk_api.node_shards import NODES_PER_SHARD, merge_nodes, node_shard_name, split_nodes


def records(members: int) -> list[dict[str, str]]:
    return [{"name": "head"}, {"name": "master"}, *({"name": f"slaves:{n}"} for n in range(1, members + 1))]


def test_a_small_instance_keeps_every_record_in_its_status() -> None:
    inline, shards = split_nodes("si", records(198))
    assert len(inline) == 200 and shards == []


def test_members_of_a_big_instance_live_in_shards_of_at_most_250_by_member_number() -> None:
    inline, shards = split_nodes("si", records(2600))
    assert [r["name"] for r in inline] == ["head", "master"]
    assert [s.name for s in shards] == [node_shard_name("si", "slaves", n) for n in range(11)]
    assert all(len(s.nodes) <= NODES_PER_SHARD for s in shards)
    assert shards[1].nodes[0] == {"name": "slaves:251"}


def test_merging_gives_the_recorded_order_whatever_order_the_shards_are_listed_in() -> None:
    """The API server lists shards by name: chunk 10 before chunk 2."""
    written = records(2600)
    inline, shards = split_nodes("si", written)
    listed = sorted(shards, key=lambda s: s.name)
    assert [s.name[-2:] for s in listed][:3] == ["-0", "-1", "10"]
    assert merge_nodes(inline, [s.nodes for s in listed]) == written


def test_a_record_in_both_places_is_the_status_one() -> None:
    merged = merge_nodes([{"name": "slaves:1", "state": "running"}], [[{"name": "slaves:1", "state": "pending"}]])
    assert merged == [{"name": "slaves:1", "state": "running"}]
