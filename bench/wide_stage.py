"""(c) One stage over a 200-member node group whose step is `sleep 1`.

The converge Task of an Assembly whose only nodes are a group of MEMBERS: stage 1 creates the
200 local nodes (`create_nodes_stage`), stage 2 runs `sleep 1` on every member at once. The
stage's wall time is its row's startedAt -> endedAt; the ideal is 1 s (members run concurrently),
the rest is starting 200 processes and recording 200 rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchkit import shapes
from benchkit.cli import run
from benchkit.figures import Body, median, row, row_seconds, span, stage_rows, steps, task_seconds
from benchkit.report import Check, Figure, Result, secs
from benchkit.scenarios import Run, converge
from benchkit.stack import Stack, running_stack

ASSEMBLY, INSTANCE = "wide", "wide"
MEMBERS = 200
STEP = "sleep 1"
STEP_SECONDS = 1.0
REPEATS = 3  # each on a fresh instance (its nodes created anew); one takes about 2 s
TASK_TIMEOUT_SECONDS = 120.0  # about 2 s on an idle 2-core machine; generous for a loaded one
TARGET_STAGE_SECONDS = 3.0


def deploy_wide(stack: Stack, *, repeats: int = 1) -> list[Run]:
    """The 200-member converge, start to end, on `repeats` fresh instances one after another
    (shared with the status-writes benchmark)."""
    stack.apply_assembly(shapes.wide_group(ASSEMBLY, members=MEMBERS, command=STEP))
    return [converge(stack, assembly=ASSEMBLY, instance=f"{INSTANCE}-{n}", timeout=TASK_TIMEOUT_SECONDS)
            for n in range(1, repeats + 1)]


def _members(task: Body, stage: str) -> list[Body]:
    found = [s for s in steps(task) if s["index"].startswith(f"{stage}.") and s["kind"] == "configure_node"]
    if len(found) != MEMBERS:
        raise RuntimeError(f"expected {MEMBERS} member rows in stage {stage}, found {len(found)}")
    return found


def _start_spread(rows: list[Body]) -> float:
    """First member started -> last member started: how long it takes to get them all going."""
    starts = sorted(r["startedAt"] for r in rows)
    return span(starts[0], starts[-1])


@dataclass(frozen=True)
class Sample:
    rows: int
    create_stage: float  # stage 1 row, seconds
    work_stage: float  # stage 2 row, seconds
    start_spread: float
    slowest_member: float
    wall: float  # Task startedAt -> endedAt
    client: float  # create call returned -> end seen


def _sample(stack: Stack, done: Run) -> Sample:
    task = stack.kube.with_shard_rows(done.body)  # 403 rows: the members are in TaskShards
    if [s["name"] for s in stage_rows(task)] != ["create_nodes_stage", "work"]:
        raise RuntimeError(f"unexpected stages: {[s['name'] for s in stage_rows(task)]}")
    members = _members(task, "2")
    return Sample(rows=len(steps(task)), create_stage=row_seconds(row(task, "1")),
                  work_stage=row_seconds(row(task, "2")), start_spread=_start_spread(members),
                  slowest_member=max(row_seconds(m) for m in members),
                  wall=task_seconds(task), client=done.final.at - done.created)


def _each(samples: list[Sample], pick: Callable[[Sample], float]) -> str:
    """The median, then every run's value: with few runs, the spread says more than a percentile."""
    values = [pick(s) for s in samples]
    return f"{secs(median(values))}  ({', '.join(f'{v:.3f}' for v in values)})"


def _result(samples: list[Sample]) -> Result:
    stage = median([s.work_stage for s in samples])
    figures = (
        Figure("runs", f"{len(samples)} converges of fresh {MEMBERS}-member instances: median (each run)"),
        Figure("rows in the Task", str(samples[0].rows)),
        Figure(f"stage 1 create_nodes_stage ({MEMBERS} local nodes)", _each(samples, lambda s: s.create_stage)),
        Figure(f"stage 2 `{STEP}` on {MEMBERS} members", _each(samples, lambda s: s.work_stage)),
        Figure("  beyond the step's own 1 s", secs(stage - STEP_SECONDS)),
        Figure("  first -> last member started", _each(samples, lambda s: s.start_spread)),
        Figure("  slowest member row", _each(samples, lambda s: s.slowest_member)),
        Figure("Task wall time (startedAt -> endedAt)", _each(samples, lambda s: s.wall)),
        Figure("client-observed (create -> end seen)", _each(samples, lambda s: s.client)),
    )
    check = Check(f"stage over {MEMBERS} members (median)", stage, TARGET_STAGE_SECONDS, "s")
    return Result(key="c", title=f"One stage over a {MEMBERS}-member node group (`{STEP}`)", figures=figures,
                  checks=(check,))


def benchmark() -> Result:
    with running_stack("wide") as stack:
        return _result([_sample(stack, done) for done in deploy_wide(stack, repeats=REPEATS)])


if __name__ == "__main__":
    run(benchmark, __doc__)
