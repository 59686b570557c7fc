"""Pure rows of the instance-side tables (`list-assemblies`, `ls`, `list-nodes`) from object dicts.

No I/O and no rendering: the commands fetch, these functions decide each cell, views/table.py
draws. The seed 001 tables are the reference (tests/plugin/test_listing_golden.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api.timefmt import parse_time
from kubectl_dtk.api.objects import short_id, stalled_message
from kubectl_dtk.views.times import table_time

ASSEMBLY_HEADERS = ("ID", "ASSEMBLY NAME", "NODES", "DESCRIPTION")
INSTANCE_HEADERS = ("ID", "ASSEMBLY NAME", "STATUS", "LAST RUN", "ASSEMBLY TEMPLATE", "TARGET", "# NODES",
                    "CREATED AT")
NODE_HEADERS = ("ID", "NAME", "INSTANCE ID", "SIZE", "OS", "OP STATUS", "DNS NAME")

Row = tuple[str, ...]


def _text(value: object) -> str:
    """An absent or null field is a blank cell (the seed's staged instance has a blank LAST RUN)."""
    return "" if value is None else str(value)


def _items(raw: object) -> list[Mapping[str, Any]]:
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def assembly_node_count(spec: Mapping[str, Any]) -> int:
    """DTK's NODES: single nodes plus every group at its cardinality (1 when unset, as the operator
    reads it). Counted from the spec, not status.nodeCount, so that an Assembly the operator has
    not seen yet, or found invalid, still shows what it would deploy."""
    groups = _items(spec.get("nodeGroups"))
    return len(_items(spec.get("nodes"))) + sum(_cardinality(group) for group in groups)


def _cardinality(group: Mapping[str, Any]) -> int:
    value = group.get("cardinality", 1)
    return value if isinstance(value, int) and value > 0 else 0


def assembly_row(body: Mapping[str, Any]) -> Row:
    spec = body.get("spec") or {}
    return (short_id(body), _text(spec.get("template")), str(assembly_node_count(spec)),
            _text(spec.get("description")))


def instance_status_cell(body: Mapping[str, Any]) -> str:
    """DTK's STATUS (the phase: pending, running, stopped), or `stalled` when the operator will do
    nothing more until the spec or its cause is fixed: `pending` would promise progress (as
    kubectl's STATUS shows a pod's Error over its phase). `ls` prints why on stderr."""
    return "stalled" if stalled_message(body) else _text((body.get("status") or {}).get("phase"))


def created_at(body: Mapping[str, Any]) -> str:
    stamp = body.get("metadata", {}).get("creationTimestamp")
    return table_time(parse_time(stamp)) if stamp else ""


def instance_row(body: Mapping[str, Any]) -> Row:
    """ASSEMBLY NAME is the instance's own name, as DTK's `ls` showed it (seed 001); TARGET the
    Target it runs on (or names, before the operator has seen it)."""
    spec, status = body.get("spec") or {}, body.get("status") or {}
    last_run = status.get("lastRun") or {}
    return (short_id(body), _text(body.get("metadata", {}).get("name")), instance_status_cell(body),
            _text(last_run.get("state")), _text(status.get("assemblyTemplate")),
            _text(status.get("target") or (spec.get("targetRef") or {}).get("name")), _text(status.get("nodeCount")),
            created_at(body))


def node_id(instance_uid: str, node_name: str) -> str:
    """A node has no Kubernetes object, hence no uid: its ID is 8 hex digits of a hash of the
    instance's uid and the node's name, so it is stable for the node's life in this instance,
    distinct across instances, and known before the machine exists."""
    return hashlib.sha256(f"{instance_uid}/{node_name}".encode()).hexdigest()[:8]


def node_rows(instance: Mapping[str, Any]) -> list[Row]:
    """One row per node and group member, in the operator's status order."""
    uid = str(instance.get("metadata", {}).get("uid", ""))
    return [(node_id(uid, _text(node.get("name"))), _text(node.get("name")), _text(node.get("instanceId")),
             _text(node.get("instanceType")), _text(node.get("image")), _text(node.get("state")),
             _text(node.get("dnsName")))
            for node in _items((instance.get("status") or {}).get("nodes"))]


def listing_order(body: Mapping[str, Any]) -> tuple[str, str, str]:
    """Namespace, then creation (DTK listed in creation order), then name for a stable tie-break."""
    meta = body.get("metadata", {})
    return str(meta.get("namespace", "")), str(meta.get("creationTimestamp", "")), str(meta.get("name", ""))


def with_namespaces(headers: Sequence[str], rows: Sequence[Row], bodies: Sequence[Mapping[str, Any]]
                    ) -> tuple[tuple[str, ...], list[Row]]:
    """`-A`: a NAMESPACE column first, as kubectl adds it."""
    spaces = [_text(body.get("metadata", {}).get("namespace")) for body in bodies]
    return ("NAMESPACE", *headers), [(space, *row) for space, row in zip(spaces, rows, strict=True)]
