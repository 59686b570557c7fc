"""The seed's Task (spark-cluster1's converge, seeds 000 and 001) at any moment of its run.

The whole run is written down once as leaf rows with millisecond start and end times, chosen so
that every truncated time and one-decimal duration the seeds print comes out exactly; parents
get the span of their leaves. `seed_task(at)` is the status a watch would have shown at `at`:
rows ended by then succeeded, rows started by then executing, the rest blank.
`slaves=N` scales the `slaves` group (N=195 gives a 1,002-row table for benchmarks).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from dtk_api.task_status import CommandResult, ErrorType, Step, StepError, StepKind, TaskState, TaskStatus

MASTER = "master"


def clock(hms: str) -> datetime:
    """`17:18:19.200` on the seed's day, 2015-11-26, in UTC."""
    return datetime.fromisoformat(f"2015-11-26T{hms}+00:00")


# Seed 000, stages 6 and 7: the commands and their output, verbatim.
LEAVE_SAFEMODE = (
    CommandResult(run="su hdfs -c 'hdfs dfsadmin -safemode leave'", return_code=0,
                  stdout="Safe mode is OFF\n"),
)
SMOKE_TEST = (
    CommandResult(run='echo "namenode port=8020"', return_code=0, stdout="namenode port=8020\n"),
    CommandResult(
        run="netstat -nltp | grep 8020", return_code=0,
        stdout="tcp        0      0 10.90.0.238:8020            0.0.0.0:*                   LISTEN"
               "      3637/java\n",
    ),
    CommandResult(run='su hdfs -c "hdfs dfsadmin -safemode get" | grep OFF', return_code=0,
                  stdout="Safe mode is OFF\n"),
)

# (start, end) of slaves:1 and slaves:2 per stage; a larger group repeats them.
CREATE_SLAVES = (("17:16:55.100", "17:18:18.900"), ("17:16:55.100", "17:18:17.900"))
HIERA_SLAVES = (("17:18:29.720", "17:18:33.120"), ("17:18:31.950", "17:18:35.050"))
BASE_SLAVES = (("17:18:35.550", "17:18:40.850"), ("17:18:35.750", "17:18:41.050"))
DATANODE_SLAVES = (("17:19:33.000", "17:20:04.000"), ("17:19:33.100", "17:20:06.000"))
WORKER_SLAVES = (("17:20:51.000", "17:21:58.000"), ("17:20:51.200", "17:22:01.400"))


class _Plan:
    """Accumulates the finished run's rows in display order."""

    def __init__(self, slaves: int) -> None:
        self.members = [f"slaves:{n}" for n in range(1, slaves + 1)]
        self.rows: list[Step] = [Step(index="", kind="task", name="assembly_converge", status="succeeded")]

    def row(self, index: str, kind: StepKind, name: str = "", **fields: Any) -> None:
        self.rows.append(Step(index=index, kind=kind, name=name or kind, status="succeeded", **fields))

    def leaf(self, index: str, kind: StepKind, node: str, span: tuple[str, str], **fields: Any) -> None:
        self.row(index, kind, node=node, started_at=clock(span[0]), ended_at=clock(span[1]), **fields)

    def stage(self, index: str, name: str, *labels: str, action: bool = False) -> None:
        labelled = {"action": ", ".join(labels)} if action else {"components": labels}
        self.row(index, "stage", name, **labelled)

    def group(self, index: str, spans: tuple[tuple[str, str], ...], *components: str) -> None:
        self.row(index, "configure_nodegroup", node="slaves",
                 components=tuple(f"node-group:slaves/{c}" for c in components))
        for n, member in enumerate(self.members):
            self.leaf(f"{index}.{n + 1}", "configure_node", member, spans[n % 2],
                      components=tuple(f"{member}/{c}" for c in components))

    def on_master(self, index: str, component: str, span: tuple[str, str]) -> None:
        self.leaf(index, "configure_node", MASTER, span, components=(f"{MASTER}/{component}",))


def _finished_run(*, slaves: int, gitarchive: bool) -> list[Step]:
    plan = _Plan(slaves)
    plan.row("1", "stage", "create_nodes_stage", operation="CreateNodes", nodes=(MASTER, *plan.members))
    plan.leaf("1.1", "create_node", MASTER, ("17:16:55.100", "17:18:17.100"))
    for n, member in enumerate(plan.members):
        plan.leaf(f"1.{n + 2}", "create_node", member, CREATE_SLAVES[n % 2])
    plan.stage("2", "bigtop_multiservice", "assembly_wide/bigtop_multiservice")
    plan.leaf("2.1", "configure_node", "assembly_wide", ("17:18:19.200", "17:18:19.230"),
              components=("assembly_wide/bigtop_multiservice",))
    hiera = "bigtop_multiservice::hiera"
    plan.stage("3", "bigtop hiera", f"node-group:slaves/{hiera}", f"{MASTER}/{hiera}")
    plan.group("3.1", HIERA_SLAVES, hiera)
    plan.on_master("3.2", hiera, ("17:18:29.650", "17:18:32.950"))
    plan.stage("4", "bigtop_base", "node-group:slaves/bigtop_base", f"{MASTER}/bigtop_base")
    plan.group("4.1", BASE_SLAVES, "bigtop_base")
    plan.on_master("4.2", "bigtop_base", ("17:18:35.250", "17:18:40.550"))
    plan.stage("5", "namenode", f"{MASTER}/hadoop::namenode")
    plan.on_master("5.1", "hadoop::namenode", ("17:18:41.100", "17:19:26.600"))
    for index, name, method, span, results in (
        ("6", "if needed leave safemode", "leave_safemode", ("17:19:27.000", "17:19:30.500"), LEAVE_SAFEMODE),
        ("7", "namenode smoke test", "smoke_test", ("17:19:30.600", "17:19:32.800"), SMOKE_TEST),
    ):
        label = f"{MASTER}/hadoop::namenode.{method}"
        plan.stage(index, name, label, action=True)
        plan.leaf(f"{index}.1", "action", MASTER, span, action=label, results=results)
    datanode = ("hadoop::common_hdfs", "hadoop::datanode")
    plan.stage("8", "datanodes", *(f"node-group:slaves/{c}" for c in datanode))
    plan.group("8.1", DATANODE_SLAVES, *datanode)
    plan.stage("9", "hdfs directories for spark", f"{MASTER}/spark::hdfs_directories")
    plan.on_master("9.1", "spark::hdfs_directories", ("17:20:07.000", "17:20:20.000"))
    plan.stage("10", "spark master", f"{MASTER}/spark::master")
    plan.on_master("10.1", "spark::master", ("17:20:21.000", "17:20:50.000"))
    plan.stage("11", "spark workers", "node-group:slaves/spark::worker")
    plan.group("11.1", WORKER_SLAVES, "spark::worker")
    if gitarchive:
        plan.stage("12", "component gitarchive[mar01]", f"{MASTER}/gitarchive[mar01]")
        plan.on_master("12.1", "gitarchive[mar01]", ("17:22:02.000", "17:22:13.700"))
    return _with_parent_spans(plan.rows)


def _with_parent_spans(rows: list[Step]) -> list[Step]:
    """A parent starts with its first leaf and ends with its last (SPEC section 5)."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for row in rows:
        if row.started_at is None or row.ended_at is None:
            continue
        parts = row.index.split(".")
        for ancestor in [".".join(parts[:depth]) for depth in range(len(parts))]:
            start, end = spans.get(ancestor, (row.started_at, row.ended_at))
            spans[ancestor] = (min(start, row.started_at), max(end, row.ended_at))
    return [replace(row, started_at=spans[row.index][0], ended_at=spans[row.index][1])
            if row.index in spans else row for row in rows]


def _as_of(row: Step, moment: datetime) -> Step:
    if row.ended_at is None or row.ended_at <= moment:
        return row
    if row.started_at is not None and row.started_at <= moment:
        return replace(row, status="executing", ended_at=None, results=())
    return replace(row, status="", started_at=None, ended_at=None, results=())


def seed_task(at: datetime | None = None, *, slaves: int = 2, gitarchive: bool = True) -> TaskStatus:
    """The Task as seen at `at` (None: finished). gitarchive=False is seed 001's 35-row task."""
    rows = _finished_run(slaves=slaves, gitarchive=gitarchive)
    if at is not None:
        rows = [_as_of(row, at) for row in rows]
    top = rows[0]
    state: TaskState = "succeeded" if top.status == "succeeded" else "executing" if top.status else "pending"
    return TaskStatus(state=state, started_at=top.started_at, ended_at=top.ended_at, steps=tuple(rows))


def with_failure(task: TaskStatus, index: str, message: str, *, error_type: ErrorType = "user",
                 result: CommandResult | None = None) -> TaskStatus:
    """`task` where row `index` (ended by then) failed with `message`: the row, its ancestors and
    the Task fail (SPEC section 5 roll-up); a failed action may carry its last command's result."""
    failed = next(row for row in task.steps if row.index == index)
    ancestors = {".".join(index.split(".")[:depth]) for depth in range(index.count(".") + 1)}
    error = StepError(message=message, type=error_type)

    def failing(row: Step) -> Step:
        if row.index == index:
            results = (*row.results[:-1], result) if result else row.results
            return replace(row, status="failed", errors=(error,), results=results)
        if row.index not in ancestors:
            return row
        return replace(row, status="failed", ended_at=row.ended_at or failed.ended_at)

    steps = tuple(map(failing, task.steps))
    return replace(task, state="failed", ended_at=steps[0].ended_at, steps=steps)
