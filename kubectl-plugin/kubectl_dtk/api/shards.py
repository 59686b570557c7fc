"""Big objects back in one piece (SPEC 11): a big Task's rows under its stages live in
TaskShards (dtk_api.sharding), a big instance's node-group members in NodeShards
(dtk_api.node_shards). One list call finds all the shards of an object, whatever their number;
an object without shards costs no call at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from kubectl_dtk.api.client import Body, DtkClient


def _owned(client: DtkClient, plural: str, label: str, owner: Mapping[str, Any]) -> list[Body]:
    """The shards labelled for `owner`; shards of an older object of the same name may linger
    until the garbage collector runs, so the owner's uid decides."""
    meta = owner.get("metadata") or {}
    uid = str(meta.get("uid", ""))
    found = client.list(plural, labels={label: r.label_value(str(meta.get("name", "")))}).get("items", [])
    return [s for s in found if any(o.get("uid") == uid for o in (s.get("metadata") or {}).get("ownerReferences", []))]


def with_all_rows(client: DtkClient, task: Body) -> Body:
    """`task` with its shards' rows merged into `status.steps` (the object itself when unsharded)."""
    if not is_sharded(task):
        return task
    return with_rows(task, shard_rows(client, task))


def is_sharded(task: Body) -> bool:
    return bool((task.get("status") or {}).get("shards"))


def shard_rows(client: DtkClient, task: Body) -> list[list[Any]]:
    """The rows of every shard of `task`, in one list call."""
    return [s.get("steps") or [] for s in _owned(client, r.SHARD_PLURAL, r.TASK_LABEL, task)]


def with_rows(task: Body, rows: list[list[Any]]) -> Body:
    # The merge code only for a big object: its dataclasses cost every small one ~15 ms of start-up.
    from dtk_api.sharding import merge

    status = task.get("status") or {}
    steps: list[Any] = merge(status.get("steps") or [], rows)
    return {**task, "status": {**status, "steps": steps}}


def with_all_nodes(client: DtkClient, instance: Body) -> Body:
    """`instance` with its NodeShards' records merged into `status.nodes`."""
    status = instance.get("status") or {}
    if not status.get("nodeShards"):
        return instance
    from dtk_api.node_shards import merge_nodes  # as in with_rows

    shards = _owned(client, r.NODE_SHARD_PLURAL, r.INSTANCE_LABEL, instance)
    nodes: list[Any] = merge_nodes(status.get("nodes") or [], [s.get("nodes") or [] for s in shards])
    return {**instance, "status": {**status, "nodes": nodes}}
