"""Where a ServiceInstance's node records live (SPEC section 11).

Up to NODES_INLINE_MAX records, all of them are in `status.nodes`. Past that, single nodes stay
there (an Assembly has at most 128) and node-group members live in NodeShards: at most
NODES_PER_SHARD members of one group each, chosen by member number, so a member always lands in
the same shard and recording a few nodes rewrites only the shards that hold them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NODES_INLINE_MAX = 200
NODES_PER_SHARD = 250  # an EC2 record is ~350 bytes: ~90 KiB a shard
_MEMBER = re.compile(r"^(?P<group>.+):(?P<number>\d+)$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

Record = Mapping[str, Any]


@dataclass(frozen=True)
class NodeShardRecords:
    name: str
    group: str
    nodes: tuple[Record, ...]


def node_shard_name(instance: str, group: str, chunk: int) -> str:
    """`<instance>-nodes-<group>-<chunk>`; a group name that is not a DNS label, or a name too
    long for an object, is replaced by a digest."""
    part = group if _DNS_LABEL.match(group) else hashlib.sha256(group.encode()).hexdigest()[:10]
    name = f"{instance}-nodes-{part}-{chunk}"
    if len(name) <= 253:
        return name
    digest = hashlib.sha256(f"{instance}/{group}".encode()).hexdigest()[:16]
    return f"{instance[:200].rstrip('-.')}-nodes-{digest}-{chunk}"


def member_of(name: str) -> tuple[str, int] | None:
    """(group, member number) of a group member's node name (`slaves:3`); None for a single node."""
    match = _MEMBER.match(name)
    return (match["group"], int(match["number"])) if match else None


def split_nodes(instance: str, records: Sequence[Record]) -> tuple[list[Record], list[NodeShardRecords]]:
    """(the records `status.nodes` keeps, the NodeShards), for records in display order."""
    if len(records) <= NODES_INLINE_MAX:
        return list(records), []
    inline: list[Record] = []
    chunks: dict[tuple[str, int], list[Record]] = {}
    for record in records:
        member = member_of(str(record.get("name", "")))
        if member is None:
            inline.append(record)
        else:
            group, number = member
            chunks.setdefault((group, (number - 1) // NODES_PER_SHARD), []).append(record)
    shards = [NodeShardRecords(name=node_shard_name(instance, group, chunk), group=group, nodes=tuple(found))
              for (group, chunk), found in chunks.items()]
    return inline, shards


def display_order(record: Record) -> tuple[int, str, int]:
    """Single nodes first, by name, then each group's members by member number (`slaves:2` before
    `slaves:10`): the order the operator records them in."""
    name = str(record.get("name", ""))
    member = member_of(name)
    return (1, *member) if member else (0, name, 0)


def merge_nodes(inline: Sequence[Record], shard_nodes: Iterable[Sequence[Record]]) -> list[Record]:
    """Every record once, in display order: `status.nodes` wins over a shard (a crash between the
    two writes may leave a record in both for a moment). Shards come listed by name, where chunk
    10 sorts before chunk 2."""
    merged = {str(record.get("name", "")): record for nodes in shard_nodes for record in nodes}
    merged.update({str(record.get("name", "")): record for record in inline})
    return sorted(merged.values(), key=display_order)
