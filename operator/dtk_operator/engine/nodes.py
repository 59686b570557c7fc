"""The machines of a ServiceInstance, as recorded in its `status.nodes`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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


def _ordered(nodes: Mapping[str, NodeFacts]) -> list[dict[str, str]]:
    def key(node: NodeFacts) -> tuple[int, str, int]:
        match = _MEMBER.match(node.name)
        return (1, match["group"], int(match["number"])) if match else (0, node.name, 0)

    return [n.to_status() for n in sorted(nodes.values(), key=key)]


async def write_nodes(services: Services, namespace: str, instance: str, nodes: Mapping[str, NodeFacts]) -> None:
    async with services.lock((namespace, instance)):
        await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, instance, {"nodes": _ordered(nodes)})


async def remember_node(services: Services, namespace: str, instance: str, node: NodeFacts) -> None:
    """Adds or replaces one node, re-reading the list so concurrent creations don't drop each other."""
    async with services.lock((namespace, instance)):
        body = await services.kube.get(r.INSTANCE_PLURAL, namespace, instance)
        if body is None:
            return
        nodes = recorded_nodes(body)
        nodes[node.name] = node
        await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, instance, {"nodes": _ordered(nodes)})


async def forget_nodes(services: Services, namespace: str, instance: str, names: Sequence[str]) -> None:
    async with services.lock((namespace, instance)):
        body = await services.kube.get(r.INSTANCE_PLURAL, namespace, instance)
        if body is None:
            return
        nodes = {k: v for k, v in recorded_nodes(body).items() if k not in set(names)}
        await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, instance, {"nodes": _ordered(nodes)})
