"""Figures of one scale run (benchmark g) out of what benchkit.scale_run gathered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchkit.figures import median, task_seconds
from benchkit.scale_run import Converge, Write
from dtk_api import resources as r

# What a write is, by its path: /apis/dtk.io/v1alpha1/namespaces/NS/PLURAL[/NAME[/status]]
TASK_STATUS, TASK_META = "Task status", "Task (metadata)"
SHARD, INSTANCE_STATUS = "TaskShard", "ServiceInstance status"
INSTANCE_META, NODE_SHARD, OTHER = "ServiceInstance (metadata)", "NodeShard", "other"
ALL_STATUS = "all four status kinds"
STATUS_KINDS = (TASK_STATUS, SHARD, INSTANCE_STATUS, NODE_SHARD)  # the status writes the brief asks about
TASK_KINDS = (TASK_STATUS, SHARD)  # writes that record the Task's rows


def kind_of(write: Write) -> str:
    parts = write.path.split("?")[0].strip("/").split("/")
    if len(parts) < 6 or parts[0] != "apis" or parts[1] != r.GROUP:
        return OTHER
    plural, status = parts[5], len(parts) == 8 and parts[7] == "status"
    if plural == r.TASK_PLURAL:
        return TASK_STATUS if status else TASK_META
    if plural == r.INSTANCE_PLURAL:
        return INSTANCE_STATUS if status else INSTANCE_META
    return {r.SHARD_PLURAL: SHARD, r.NODE_SHARD_PLURAL: NODE_SHARD}.get(plural, OTHER)


@dataclass(frozen=True)
class Sizes:
    count: int
    median: float
    max: int
    refused: int  # answered 4xx/5xx: the write did not land

    @staticmethod
    def of(writes: Sequence[Write]) -> Sizes:
        sizes = [w.bytes for w in writes]
        return Sizes(len(writes), median(sizes) if sizes else 0.0, max(sizes, default=0),
                     sum(1 for w in writes if w.status >= 400))


@dataclass(frozen=True)
class Timings:
    plugin: float  # kubectl dtk task-status, median seconds
    kubectl_task: float  # kubectl get task NAME -o yaml
    kubectl_shards: float | None  # kubectl get taskshards -l dtk.io/task=NAME -o yaml (None: no shards)


@dataclass(frozen=True)
class Sample:
    label: str  # before, after
    commit: str
    members: int
    done: Converge
    timings: Timings | None
    load: str  # load average after the run
    by_kind: dict[str, Sizes] = field(default_factory=dict)

    @staticmethod
    def of(label: str, commit: str, members: int, done: Converge, timings: Timings | None, load: str) -> Sample:
        grouped: dict[str, list[Write]] = {}
        for write in done.writes:
            grouped.setdefault(kind_of(write), []).append(write)
        by_kind = {kind: Sizes.of(grouped.get(kind, [])) for kind in (*STATUS_KINDS, TASK_META, INSTANCE_META, OTHER)}
        by_kind[ALL_STATUS] = Sizes.of([w for k in STATUS_KINDS for w in grouped.get(k, [])])
        return Sample(label, commit, members, done, timings, load, by_kind)

    @property
    def state(self) -> str:
        status = self.done.task.get("status") or {}
        progress = status.get("progress") or {}
        state = str(status.get("state") or "no Task")
        if self.done.ended_seen is None:
            state = f"not ended by the deadline ({state})"
        return f"{state}, {progress.get('completed', 0)}/{progress.get('total', 0)} steps"

    @property
    def succeeded(self) -> bool:
        return (self.done.task.get("status") or {}).get("state") == "succeeded"

    @property
    def failure(self) -> str:
        """Why the Task did not succeed, in the operator's words (empty when it did)."""
        status = self.done.task.get("status") or {}
        if self.succeeded:
            return ""
        message = (status.get("failure") or {}).get("message") or next(
            (c.get("message") for c in status.get("conditions") or [] if c.get("type") == "Succeeded"), "")
        return str(message or "")

    @property
    def wall(self) -> float | None:
        try:
            return task_seconds(self.done.task)
        except ValueError:
            return None

    @property
    def client(self) -> float | None:
        return None if self.done.ended_seen is None else self.done.ended_seen - self.done.created

    @property
    def largest(self) -> tuple[int, str]:
        return max(((k.largest, f"{k.plural}/{k.largest_name}") for k in self.done.kinds if k.versions),
                   default=(0, ""))

    @property
    def task_writes(self) -> int:
        return sum(self.by_kind[k].count for k in TASK_KINDS)

    @property
    def writes_per_row(self) -> float | None:
        return self.task_writes / len(self.done.rows) if self.done.rows else None

    @property
    def refused(self) -> Counter[str]:
        """Writes the API server answered with an error, by kind and HTTP status (a 409 on a create
        that then patches is the operator's normal way to find an object an earlier life made)."""
        return Counter(f"{kind_of(w)} HTTP {w.status}" for w in self.done.writes if w.status >= 400)
