"""The machines of a ServiceInstance, as recorded in its `status.nodes` and, for a big instance,
its NodeShards (dtk_api.node_shards)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.node_shards import NodeShardRecords, display_order, member_of, merge_nodes, split_nodes
from dtk_operator.engine.services import Services
from dtk_operator.kube.client import NotFound
from dtk_operator.targets.base import NodeFacts


def _owned_by(shard: Mapping[str, Any], uid: str) -> bool:
    return any(o.get("uid") == uid for o in (shard.get("metadata") or {}).get("ownerReferences") or [])


async def _shards_of(services: Services, body: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The instance's NodeShards (name -> records), in one list call; none when it has none."""
    if not (body.get("status") or {}).get("nodeShards"):
        return {}
    meta = body["metadata"]
    found = await services.kube.list(r.NODE_SHARD_PLURAL, str(meta["namespace"]),
                                     labels={r.INSTANCE_LABEL: str(meta["name"])})
    return {s["metadata"]["name"]: list(s.get("nodes") or []) for s in found
            if _owned_by(s, str(meta.get("uid") or ""))}


def _facts(raw: Sequence[Any]) -> dict[str, NodeFacts]:
    return {n.name: n for n in (NodeFacts.from_status(item) for item in raw) if n.state != "terminated"}


async def recorded_nodes(services: Services, body: Mapping[str, Any]) -> dict[str, NodeFacts]:
    inline = (body.get("status") or {}).get("nodes") or []
    return _facts(merge_nodes(inline, (await _shards_of(services, body)).values()))


def surplus_members(nodes: Mapping[str, NodeFacts], sizes: Mapping[str, int]) -> list[NodeFacts]:
    """Members beyond their group's cardinality, highest index first (DTK's scale-down order)."""
    extra = []
    for node in nodes.values():
        member = member_of(node.name)
        if member and member[0] in sizes and member[1] > sizes[member[0]]:
            extra.append((*member, node))
    return [node for _, _, node in sorted(extra, key=lambda e: (e[0], -e[1]))]


def _ordered(nodes: Mapping[str, NodeFacts]) -> list[dict[str, Any]]:
    return sorted((n.to_status() for n in nodes.values()), key=display_order)


async def _write(services: Services, body: Mapping[str, Any], nodes: Mapping[str, NodeFacts],
                 held: Mapping[str, list[Any]]) -> None:
    """Shards first (only those that changed; emptied ones deleted), then the instance's status:
    a crash in between leaves a record in both places, never in neither."""
    meta = body["metadata"]
    namespace, instance = str(meta["namespace"]), str(meta["name"])
    services.metrics.set_nodes(namespace, instance, dict(Counter(n.state for n in nodes.values())))
    inline, shards = split_nodes(instance, _ordered(nodes))
    await asyncio.gather(*(_put_shard(services, body, shard, exists=shard.name in held) for shard in shards
                           if held.get(shard.name) != list(shard.nodes)))
    status: dict[str, Any] = {"nodes": inline, "nodeShards": len(shards)}
    await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, instance, status)
    for gone in set(held) - {shard.name for shard in shards}:
        with contextlib.suppress(NotFound):
            await services.kube.delete(r.NODE_SHARD_PLURAL, namespace, gone)


async def _put_shard(services: Services, body: Mapping[str, Any], shard: NodeShardRecords, *, exists: bool) -> None:
    """`exists`: the shard was in the list just read (under the instance's lock), so a patch is
    tried first; a new one is created directly, saving a 404 per new shard (20 at 5,000 members)."""
    meta = body["metadata"]
    namespace, instance = str(meta["namespace"]), str(meta["name"])
    nodes = list(shard.nodes)
    if exists:
        try:
            await services.kube.patch(r.NODE_SHARD_PLURAL, namespace, shard.name, {"nodes": nodes})
            return
        except NotFound:  # deleted since the list (by hand): made again below
            pass
    owner = {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "name": instance, "uid": str(meta.get("uid") or ""),
             "controller": True}
    shard_body = {"apiVersion": r.API_VERSION, "kind": r.NODE_SHARD_KIND,
                  "metadata": {"name": shard.name, "namespace": namespace, "labels": {r.INSTANCE_LABEL: instance},
                               "ownerReferences": [owner]},
                  "instanceRef": {"name": instance}, "group": shard.group, "nodes": nodes}
    # It may exist: listed before its creation landed (a write lost its answer), or left by an
    # instance of the same name deleted a moment ago (the list ignored it: another owner's)
    await services.kube.create_or_take_over(r.NODE_SHARD_PLURAL, namespace, shard_body)


async def _change(services: Services, namespace: str, instance: str, batch: Mapping[str, NodeFacts],
                  drop: Sequence[str] = ()) -> None:
    async with services.lock((namespace, instance)):
        body = await services.kube.get(r.INSTANCE_PLURAL, namespace, instance)
        if body is None:
            return
        held = await _shards_of(services, body)
        nodes = _facts(merge_nodes((body.get("status") or {}).get("nodes") or [], held.values()))
        nodes.update(batch)
        for name in drop:
            nodes.pop(name, None)
        await _write(services, body, nodes, held)


async def remember_nodes(services: Services, namespace: str, instance: str, batch: Mapping[str, NodeFacts]) -> None:
    """Adds or replaces nodes, re-reading the records so that no concurrent change is lost."""
    await _change(services, namespace, instance, batch)


class NodeRecorder:
    """Nodes created together are recorded together: 200 concurrent `create_node` rows cost a
    few instance writes, not 200. Each caller returns only once its node is in the API, so a
    row is never marked succeeded (and skipped on resume) before its node is on record."""

    def __init__(self, services: Services, namespace: str, instance: str, *, gather_seconds: float) -> None:
        self._services, self._namespace, self._instance = services, namespace, instance
        self._gather = gather_seconds
        self._pending: dict[str, NodeFacts] = {}
        self._flush: asyncio.Future[None] | None = None

    async def remember(self, node: NodeFacts) -> None:
        self._pending[node.name] = node
        if self._flush is None:
            self._flush = asyncio.ensure_future(self._write_soon())
        await asyncio.shield(self._flush)

    async def _write_soon(self) -> None:
        await asyncio.sleep(self._gather)
        batch, self._pending, self._flush = self._pending, {}, None
        await remember_nodes(self._services, self._namespace, self._instance, batch)


async def forget_nodes(services: Services, namespace: str, instance: str, names: Sequence[str]) -> None:
    await _change(services, namespace, instance, {}, drop=names)
