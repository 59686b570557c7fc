"""(a) ServiceInstance created -> its Task `executing`, as a client sees it.

Each of SAMPLES instances of a one-stage, one-node Assembly is created in turn on an idle
operator; the clock starts when the create call returns and stops when the Task watch delivers
the first event showing `status.state == executing`. A watch, not a poll: no polling interval
blurs the figure. Each instance is left to finish and settle before the next one is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchkit import shapes
from benchkit.cli import run
from benchkit.figures import median, percentile
from benchkit.report import Check, Figure, Result, ms
from benchkit.scenarios import converge
from benchkit.stack import Stack, running_stack

ASSEMBLY = "one-stage"
SAMPLES = 30
WARMUPS = 2  # the operator's first Tasks pay one-off costs (imports, first connections); not counted
TASK_TIMEOUT_SECONDS = 30.0  # a one-step Task ends in well under a second
TARGET_P50_SECONDS = 0.200


@dataclass(frozen=True)
class Sample:
    added: float  # seconds from the create call returning to the Task's ADDED event
    executing: float  # seconds from the create call returning to the Task seen `executing`


def _sample(stack: Stack, instance: str) -> Sample:
    done = converge(stack, assembly=ASSEMBLY, instance=instance, timeout=TASK_TIMEOUT_SECONDS)
    if done.started.state != "executing":
        raise RuntimeError(f"task {done.task} was first seen {done.started.state!r}, never `executing`")
    added = next((s for s in stack.watch.events_of(done.task) if s.type == "ADDED"), None)
    if added is None:
        raise RuntimeError(f"the watch never delivered task {done.task} as ADDED")
    return Sample(added=added.at - done.created, executing=done.started.at - done.created)


def _result(samples: list[Sample]) -> Result:
    executing = [s.executing for s in samples]
    handover = [s.executing - s.added for s in samples]
    figures = (
        Figure("instances measured", f"{len(samples)} (after {WARMUPS} warm-ups), one at a time"),
        Figure("create -> executing  p50", ms(median(executing))),
        Figure("create -> executing  p95", ms(percentile(executing, 95))),
        Figure("create -> executing  min / max", f"{ms(min(executing))} / {ms(max(executing))}"),
        Figure("  of which create -> Task ADDED  p50", ms(median([s.added for s in samples]))),
        Figure("  of which Task ADDED -> executing  p50", ms(median(handover))),
    )
    check = Check("p50 create -> executing", median(executing) * 1000, TARGET_P50_SECONDS * 1000, "ms")
    notes = ("observed through a watch on Tasks (event arrival time), not a poll",)
    return Result(key="a", title="ServiceInstance created -> its Task executing", figures=figures,
                  checks=(check,), notes=notes)


def benchmark() -> Result:
    with running_stack("latency") as stack:
        stack.apply_assembly(shapes.one_stage(ASSEMBLY))
        for number in range(WARMUPS):
            _sample(stack, f"warmup-{number}")
        return _result([_sample(stack, f"lat-{number:02d}") for number in range(SAMPLES)])


if __name__ == "__main__":
    run(benchmark, __doc__)
