"""(d) Status writes per Task against its row count.

A client watching the Task counts its MODIFIED events from creation until it has ended and gone
quiet: the API server sends one for every write that changes the object, and none for a write
that changes nothing. Most are the operator's coalesced status writes; kopf's finalizer, added
when the Task's daemon starts and removed once it has ended, costs two metadata-only ones. Both
are counted against the target, and shown apart. Cases: the seed's spark example (37 rows) and
the 200-member group of benchmark (c) (403 rows: over 400, so its rows below the stages live in
TaskShards, SPEC 11; their creations and changes, seen on a watch of TaskShards, count as writes
too, and its rows are counted from the Task and its shards together).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchkit import shapes
from benchkit.cli import run
from benchkit.figures import steps
from benchkit.kube import server_and_token
from benchkit.object_watch import ObjectWatch
from benchkit.report import Check, Figure, Result
from benchkit.scenarios import Run, converge
from benchkit.stack import Stack, running_stack
from benchkit.watch import Seen
from wide_stage import MEMBERS, deploy_wide

from dtk_api import resources as r
from dtk_operator.engine.services import Options

SPARK = "spark-cluster.yaml"
TASK_TIMEOUT_SECONDS = 60.0  # the spark converge takes about 1.5 s
QUIET_SECONDS = 1.0  # kopf drops the finalizer within milliseconds of the end; a second of silence is ample
QUIET_TIMEOUT_SECONDS = 15.0
TARGET_WRITES_PER_ROW = 2.0


@dataclass(frozen=True)
class Count:
    case: str
    rows: int
    modified: int  # every MODIFIED event of the Task
    status: int  # those whose status differs from the previous version's
    shard_writes: int  # TaskShards created or changed (a big Task's rows below its stages)

    @property
    def per_row(self) -> float:
        """The figure held to the target: every write of the Task and of its shards."""
        return (self.modified + self.shard_writes) / self.rows


def _count(stack: Stack, shards: ObjectWatch, case: str, run: Callable[[Stack], Run]) -> Count:
    before = _shard_versions(shards)
    done = run(stack)
    stack.watch.wait_quiet(done.task, quiet=QUIET_SECONDS, timeout=QUIET_TIMEOUT_SECONDS)
    events = stack.watch.events_of(done.task)
    modified = [e for e in events if e.type == "MODIFIED"]
    rows = steps(stack.kube.with_shard_rows(done.body))
    return Count(case=case, rows=len(rows), modified=len(modified), status=_status_changes(events),
                 shard_writes=_shard_versions(shards) - before)


def _shard_versions(shards: ObjectWatch) -> int:
    return sum(f.versions for f in shards.figures())


def _status_changes(events: list[Seen]) -> int:
    changes, previous = 0, None
    for seen in events:
        status = seen.obj.get("status")
        if seen.type == "MODIFIED" and status != previous:
            changes += 1
        previous = status
    return changes


def _spark(stack: Stack) -> Run:
    assembly, instance = shapes.example(SPARK)
    stack.apply_assembly(assembly)
    return converge(stack, assembly=assembly["metadata"]["name"], instance=instance["metadata"]["name"],
                    timeout=TASK_TIMEOUT_SECONDS)


def _figures(count: Count) -> tuple[Figure, ...]:
    return (
        Figure(f"{count.case}: rows", str(count.rows)),
        Figure(f"{count.case}: MODIFIED events (writes)", str(count.modified)),
        Figure(f"{count.case}:   of which status changes", str(count.status)),
        Figure(f"{count.case}:   of which metadata only (finalizer)", str(count.modified - count.status)),
        Figure(f"{count.case}: TaskShard writes (created or changed)", str(count.shard_writes)),
        Figure(f"{count.case}: writes per row", f"{count.per_row:.3f}"),
    )


def _result(counts: list[Count]) -> Result:
    figures = tuple(f for count in counts for f in _figures(count))
    checks = tuple(Check(f"writes per row, {c.case}", c.per_row, TARGET_WRITES_PER_ROW, "writes/row",
                         inclusive=True) for c in counts)
    coalesce = Options().status_coalesce_seconds
    notes = (f"counted from the Task's ADDED event until it had ended and been quiet for {QUIET_SECONDS:g} s; "
             "writes per row = (MODIFIED events + TaskShard writes) / rows",
             f"the operator gathers row changes for {coalesce * 1000:g} ms before each status write")
    return Result(key="d", title="Status writes per Task against its row count", figures=figures, checks=checks,
                  notes=notes)


def benchmark() -> Result:
    with running_stack("writes") as stack:
        server, token = server_and_token(stack.kube.kubeconfig)
        host, port = server.removeprefix("http://").rsplit(":", 1)
        with ObjectWatch(host=host, port=int(port), token=token, namespace=stack.kube.namespace,
                         plurals=(r.SHARD_PLURAL,)) as shards:
            counts = [_count(stack, shards, "spark", _spark),
                      _count(stack, shards, f"{MEMBERS} members", lambda s: deploy_wide(s)[0])]
    return _result(counts)


if __name__ == "__main__":
    run(benchmark, __doc__)
