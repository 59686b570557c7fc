"""Writes a big Task's TaskShards (dtk_api.sharding): only the shards whose rows changed.

A shard is created on its first write (or taken over if it exists: an earlier operator life's,
or an older Task's of the same name not yet collected) and merge-patched afterwards; its `steps`
list is replaced whole, so a write costs one shard's rows.
Shards are written before the Task's own status in the same round (engine/writer.py), so the
Task never counts progress that its shards do not hold yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.bounds import bounded
from dtk_api.sharding import ShardRows
from dtk_operator.kube.client import KubeClient, NotFound

CONCURRENT_SHARD_WRITES = 8  # a 5,000-member stage changes ~50 shards at once: a few requests in flight


class ShardSink:
    def __init__(self, kube: KubeClient, *, namespace: str, task: Mapping[str, Any]) -> None:
        meta = task["metadata"]
        self._kube, self._namespace = kube, namespace
        self._task, self._uid = str(meta["name"]), str(meta.get("uid") or "")
        self._instance = str(((task.get("spec") or {}).get("serviceInstanceRef") or {}).get("name") or "")
        self._written: dict[str, list[Any]] = {}  # shard name -> the rows the API server holds
        self._slots = asyncio.Semaphore(CONCURRENT_SHARD_WRITES)
        self.writes = 0

    def changed(self, shards: Sequence[ShardRows]) -> list[ShardRows]:
        return [s for s in shards if self._written.get(s.name) != list(s.steps)]

    async def write(self, shards: Sequence[ShardRows]) -> None:
        """Writes the changed shards; raises (after the others are done) if one could not be."""
        results = await asyncio.gather(*(self._write_one(s) for s in self.changed(shards)), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _write_one(self, shard: ShardRows) -> None:
        rows = bounded({"steps": [dict(step) for step in shard.steps]})["steps"]
        async with self._slots:
            if shard.name in self._written:
                try:
                    await self._kube.patch(r.SHARD_PLURAL, self._namespace, shard.name, {"steps": rows})
                except NotFound:  # deleted by hand: written again whole
                    await self._kube.create(r.SHARD_PLURAL, self._namespace, self._body(shard, rows))
            else:  # an earlier operator life may have created it: this life's rows win
                await self._kube.create_or_take_over(r.SHARD_PLURAL, self._namespace, self._body(shard, rows))
        self._written[shard.name] = list(shard.steps)
        self.writes += 1

    def _body(self, shard: ShardRows, rows: list[Any]) -> dict[str, Any]:
        labels = {r.TASK_LABEL: r.label_value(self._task)}
        if self._instance:
            labels[r.INSTANCE_LABEL] = self._instance
        owner = {"apiVersion": r.API_VERSION, "kind": r.TASK_KIND, "name": self._task, "uid": self._uid,
                 "controller": True}
        return {"apiVersion": r.API_VERSION, "kind": r.SHARD_KIND,
                "metadata": {"name": shard.name, "namespace": self._namespace, "labels": labels,
                             "ownerReferences": [owner]},
                "taskRef": {"name": self._task}, "stage": shard.stage, "steps": rows}


async def read_shard_rows(kube: KubeClient, namespace: str, task: str, uid: str) -> list[list[Any]]:
    """The rows of a Task's shards, in one list call. Shards of an older Task of the same name
    (another uid, not yet collected) are not this Task's rows."""
    found = await kube.list(r.SHARD_PLURAL, namespace, labels={r.TASK_LABEL: r.label_value(task)})
    mine = [s for s in found if not uid or any(o.get("uid") == uid for o in s["metadata"].get("ownerReferences", []))]
    return [list(s.get("steps") or []) for s in mine]
