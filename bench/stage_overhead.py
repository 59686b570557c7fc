"""(b) Engine overhead per stage: a 12-stage workflow whose every step is `true`.

An instance of a one-node Assembly is converged first (creating its node), then RUNS Tasks of a
second workflow with the same 12 stages are run one after another; these have no node-creation
stage, so their 12 stages are all the work there is. Per run:
- overhead = (Task wall time, status.startedAt -> endedAt) - (sum of the 12 step rows' own
  durations), divided by 12: what the engine adds around each stage;
- raw = Task wall time / 12, with the steps' own time (mostly forking `/bin/sh -c true`) included;
- the client-observed duration: create call returned -> the watch sees the terminal state.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchkit import shapes
from benchkit.cli import run
from benchkit.figures import Body, median, row_seconds, span, stage_rows, steps, task_seconds
from benchkit.report import Check, Figure, Result, ms
from benchkit.scenarios import Run, converge, run_workflow
from benchkit.shapes import NOOP
from benchkit.stack import running_stack

from dtk_operator.targets.local import run_shell

ASSEMBLY, INSTANCE, WORKFLOW = "chain", "chain", "chain12"
STAGES = 12
RUNS = 20  # medians over these; one run takes about 0.1 s
WARMUPS = 1
TASK_TIMEOUT_SECONDS = 30.0
TARGET_OVERHEAD_SECONDS = 0.025
SPAWNS = 20  # baseline: how long the local target takes to run `true` itself, from a Python process


@dataclass(frozen=True)
class Sample:
    wall: float  # Task status.startedAt -> endedAt, seconds
    steps: float  # sum of the leaf rows' own durations, seconds
    client: float  # create call returned -> terminal state seen
    client_running: float  # `executing` seen -> terminal state seen
    preamble: float  # Task started -> stage 1 started: the first status write and instance refresh
    gap: float  # median of stage n ended -> stage n+1 started

    @property
    def overhead_per_stage(self) -> float:
        return (self.wall - self.steps) / STAGES


def _leaves(task: Body) -> list[Body]:
    if len(stage_rows(task)) != STAGES:
        raise RuntimeError(f"expected {STAGES} stages, the task has {len(stage_rows(task))}")
    return [s for s in steps(task) if s["kind"] == "configure_node"]


def _gaps(task: Body) -> list[float]:
    rows = stage_rows(task)
    return [span(before["endedAt"], after["startedAt"]) for before, after in itertools.pairwise(rows)]


def _sample(done: Run) -> Sample:
    task, leaves = done.body, _leaves(done.body)
    preamble = span((task.get("status") or {}).get("startedAt"), stage_rows(task)[0].get("startedAt"))
    return Sample(wall=task_seconds(task), steps=sum(row_seconds(s) for s in leaves),
                  client=done.final.at - done.created, client_running=done.final.at - done.started.at,
                  preamble=preamble, gap=median(_gaps(task)))


async def _spawn_baseline(workdir: Path) -> float:
    """The local target's own `run_shell` (pipes, new session) on `true`, outside the operator."""
    durations = []
    for _ in range(SPAWNS):
        began = time.perf_counter()
        await run_shell(NOOP, cwd=workdir, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, timeout=None)
        durations.append(time.perf_counter() - began)
    return median(durations)


def _median(samples: list[Sample], pick: Callable[[Sample], float]) -> float:
    return median([pick(s) for s in samples])


def _result(samples: list[Sample], spawn: float) -> Result:
    overheads = [s.overhead_per_stage for s in samples]
    wall, client = _median(samples, lambda s: s.wall), _median(samples, lambda s: s.client)
    own = _median(samples, lambda s: s.steps)
    figures = (
        Figure("runs", f"{len(samples)} Tasks of {STAGES} stages (after {WARMUPS} warm-up), medians below"),
        Figure("Task wall time (startedAt -> endedAt)", ms(wall)),
        Figure("client-observed (create -> end seen)", ms(client)),
        Figure("client-observed (executing seen -> end seen)", ms(_median(samples, lambda s: s.client_running))),
        Figure(f"sum of the {STAGES} steps' own durations", ms(own)),
        Figure(f"overhead per stage (wall - steps) / {STAGES}", ms(median(overheads))),
        Figure("overhead per stage min / max", f"{ms(min(overheads))} / {ms(max(overheads))}"),
        Figure("  same, client-observed (executing seen -> end seen)",
               ms(_median(samples, lambda s: (s.client_running - s.steps) / STAGES))),
        Figure("  Task start -> stage 1 start", ms(_median(samples, lambda s: s.preamble))),
        Figure("  stage end -> next stage start", ms(_median(samples, lambda s: s.gap))),
        Figure(f"raw per stage (wall / {STAGES})", ms(wall / STAGES)),
        Figure(f"raw per stage, client-observed / {STAGES}", ms(client / STAGES)),
        Figure("one step's own duration (row)", ms(own / STAGES)),
        Figure("  of which running `true` (run_shell alone)", ms(spawn) + " (median, measured in this process)"),
    )
    checks = (Check("overhead per stage", median(overheads) * 1000, TARGET_OVERHEAD_SECONDS * 1000, "ms"),)
    notes = ("row timestamps have millisecond resolution: the sum of 12 rows is good to about +-1 ms per stage",
             "Task start -> stage 1 start (the first status write, then the instance's refresh) is paid once per "
             "Task and counted in the overhead")
    return Result(key="b", title=f"Engine overhead per stage ({STAGES} stages of `true`)", figures=figures,
                  checks=checks, notes=notes)


def benchmark() -> Result:
    with running_stack("stages") as stack:
        stack.apply_assembly(shapes.chain(ASSEMBLY, stages=STAGES, workflow=WORKFLOW))
        converge(stack, assembly=ASSEMBLY, instance=INSTANCE, timeout=TASK_TIMEOUT_SECONDS)
        samples = []
        # Named `<instance>-<n>` after the converge Task (number 1), as the operator names its own: the
        # queue orders Tasks created within one second by that trailing number.
        for number in range(2, 2 + WARMUPS + RUNS):
            done = run_workflow(stack, instance=INSTANCE, task=f"{INSTANCE}-{number}", workflow=WORKFLOW,
                                timeout=TASK_TIMEOUT_SECONDS)
            samples.append(_sample(done))
    with tempfile.TemporaryDirectory(prefix="dtk-bench-spawn-") as workdir:
        spawn = asyncio.run(_spawn_baseline(Path(workdir)))
    return _result(samples[WARMUPS:], spawn)


if __name__ == "__main__":
    run(benchmark, __doc__)
