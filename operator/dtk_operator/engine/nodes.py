"""The machines of a ServiceInstance, as recorded in its `status.nodes`."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_operator.engine.services import Services
from dtk_operator.targets.base import NodeFacts

_MEMBER = re.compile(r"^(?P<group>.+):(?P<number>\d+)$")


def recorded_nodes(body: Mapping[str, Any]) -> dict[str, NodeFacts]:
    raw = (body.get("status") or {}).get("nodes") or []
    return {n.name: n for n in (NodeFacts.from_status(item) for item in raw) if n.state != "terminated"}


def surplus_members(nodes: Mapping[str, NodeFacts], sizes: Mapping[str, int]) -> list[NodeFacts]:
    """Members beyond their group's cardinality, highest index first (DTK's scale-down order)."""
    extra = []
    for node in nodes.values():
        match = _MEMBER.match(node.name)
        if match and match["group"] in sizes and int(match["number"]) > sizes[match["group"]]:
            extra.append((match["group"], int(match["number"]), node))
    return [node for _, _, node in sorted(extra, key=lambda e: (e[0], -e[1]))]


def _write(services: Services, namespace: str, instance: str, nodes: Mapping[str, NodeFacts]) -> Awaitable[Any]:
    services.metrics.set_nodes(namespace, instance, dict(Counter(n.state for n in nodes.values())))
    return services.kube.patch_status(r.INSTANCE_PLURAL, namespace, instance, {"nodes": _ordered(nodes)})


def _ordered(nodes: Mapping[str, NodeFacts]) -> list[dict[str, str]]:
    def key(node: NodeFacts) -> tuple[int, str, int]:
        match = _MEMBER.match(node.name)
        return (1, match["group"], int(match["number"])) if match else (0, node.name, 0)

    return [n.to_status() for n in sorted(nodes.values(), key=key)]


async def remember_nodes(services: Services, namespace: str, instance: str, batch: Mapping[str, NodeFacts]) -> None:
    """Adds or replaces nodes, re-reading the list so that no concurrent change is lost."""
    async with services.lock((namespace, instance)):
        body = await services.kube.get(r.INSTANCE_PLURAL, namespace, instance)
        if body is None:
            return
        nodes = recorded_nodes(body)
        nodes.update(batch)
        await _write(services, namespace, instance, nodes)


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
    async with services.lock((namespace, instance)):
        body = await services.kube.get(r.INSTANCE_PLURAL, namespace, instance)
        if body is None:
            return
        nodes = {k: v for k, v in recorded_nodes(body).items() if k not in set(names)}
        await _write(services, namespace, instance, nodes)
