"""How a big Task's rows are split between the Task and its TaskShards (SPEC section 11).

A small Task keeps every row in its own status: `kubectl get task -o yaml` shows it all, and
nothing else is written. A Task with more than INLINE_ROWS_MAX rows keeps only its top row and
its stage rows (at most 201: a workflow has at most 200 stages); every row under a stage lives in
a TaskShard, a child object of at most SHARD_ROWS consecutive rows of one stage. So the Task's
size no longer grows with the members of a group, and a change to one member rewrites one shard
(about 100 rows), never the whole tree: the way EndpointSlices replaced one big Endpoints object.

Which rows go where depends only on the rows themselves (their number and indexes), never on
their state: a resumed Task finds its rows where the crashed operator put them.

The list of node names on a creation stage row (`nodes`) repeats its children's `node` fields,
one per member (10,000 names at the limit); when sharded it is left out of the stage row and
rebuilt from the children when the rows are merged back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dtk_api.resources import shortened

INLINE_ROWS_MAX = 400  # up to here every row stays in the Task (the seed's spark Task has 37)
SHARD_ROWS = 100  # rows per TaskShard: ~100 members with a few commands each stay far under 256 KiB
MAX_NAME_CHARS = 253  # metadata.name of a namespaced custom object (a DNS subdomain)


@dataclass(frozen=True)
class ShardRows:
    """One TaskShard's content: the rows it holds and the stage they belong to."""

    name: str
    stage: str
    steps: tuple[Mapping[str, Any], ...]


def _stage_of(index: str) -> str:
    return index.partition(".")[0]


def _depth(index: str) -> int:
    return 0 if not index else index.count(".") + 1


def is_sharded(row_count: int) -> bool:
    return row_count > INLINE_ROWS_MAX


def shard_name(task: str, stage: str, chunk: int) -> str:
    """`<task>-<stage>-<chunk>`, e.g. `fleet1-1-3-0`; a Task name too long for the suffix is
    shortened and made unique again with a digest of the whole name."""
    suffix = f"-{stage}-{chunk}"
    return shortened(task, MAX_NAME_CHARS - len(suffix)) + suffix


def split(task: str, steps: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[ShardRows]]:
    """(the rows the Task keeps, the shards) for `steps` in display order."""
    if not is_sharded(len(steps)):
        return list(steps), []
    kept: list[Mapping[str, Any]] = []
    below: dict[str, list[Mapping[str, Any]]] = {}
    for step in steps:
        index = str(step.get("index", ""))
        if _depth(index) <= 1:
            has_children = step.get("kind") == "stage"
            kept.append({k: v for k, v in step.items() if k != "nodes"} if has_children else step)
        else:
            below.setdefault(_stage_of(index), []).append(step)
    shards = [
        ShardRows(name=shard_name(task, stage, start // SHARD_ROWS), stage=stage,
                  steps=tuple(rows[start:start + SHARD_ROWS]))
        for stage, rows in below.items()
        for start in range(0, len(rows), SHARD_ROWS)
    ]
    return kept, shards


def _sort_key(index: str) -> tuple[int, ...]:
    return tuple(int(part) for part in index.split(".")) if index else ()


Rows = Sequence[Mapping[str, Any]]


def merge(kept: Rows, shard_steps: Iterable[Rows]) -> list[dict[str, Any]]:
    """The whole tree again, in display order. A row in both places (never written so, but a
    hand-edited object might be) is taken from the Task."""
    rows: dict[str, dict[str, Any]] = {}
    for steps in shard_steps:
        for step in steps:
            rows.setdefault(str(step.get("index", "")), dict(step))
    rows.update({str(step.get("index", "")): dict(step) for step in kept})
    ordered = [rows[index] for index in sorted(rows, key=_sort_key)]
    _restore_stage_nodes(ordered)
    return ordered


def _restore_stage_nodes(ordered: list[dict[str, Any]]) -> None:
    """A creation stage row's `nodes` are its children's nodes, in order (see the docstring)."""
    for position, step in enumerate(ordered):
        if step.get("kind") != "stage" or not step.get("operation") or step.get("nodes"):
            continue
        prefix, names = f"{step.get('index', '')}.", []
        for child in ordered[position + 1:]:  # display order: a stage's rows follow it, together
            index = str(child.get("index", ""))
            if not index.startswith(prefix):
                break
            if _depth(index) == 2:
                names.append(str(child.get("node", "")))
        if names:
            step["nodes"] = names
