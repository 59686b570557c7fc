"""Walks the tree: stages in order, the leaves of a stage concurrently."""

from __future__ import annotations

import asyncio

from dtk_api.task_status import Step, is_leaf, stages
from dtk_operator.engine.leaves import LeafRunner
from dtk_operator.engine.run_state import RunState


def _pending_leaves(steps: tuple[Step, ...], stage: Step) -> list[Step]:
    """A stage's leaves still to run; a stage row without children (one create_node) is its own leaf."""
    prefix = stage.index + "."
    found = [s for pos, s in enumerate(steps) if s.index.startswith(prefix) and is_leaf(steps, pos)]
    return [s for s in (found or [stage]) if s.status != "succeeded"]


async def run_stages(run: RunState, leaf: LeafRunner) -> bool:
    """True when every stage succeeded; stops after the first stage that did not."""
    if run.plan is None:
        raise RuntimeError("run_stages needs a plan")
    work = run.plan.work
    for stage in stages(run.status.steps):
        if stage.status == "succeeded":
            continue  # resumed Task: succeeded rows never run twice
        pending = _pending_leaves(run.status.steps, stage)
        run.log("notification", f"stage {stage.index} '{stage.name}' started")
        await leaf.prepare([work[s.index] for s in pending if s.index in work])
        await asyncio.gather(*(leaf(s.index, work[s.index]) if s.index in work else _empty(run, s.index)
                               for s in pending))
        outcome = next(s for s in run.status.steps if s.index == stage.index).status
        run.log("notification" if outcome == "succeeded" else "error",
                f"stage {stage.index} '{stage.name}' {outcome or 'had nothing to do'}")
        await run.writer.persisted()  # stored before the next stage starts: a crash never repeats it
        if outcome not in ("succeeded", ""):
            return False
    return True


async def _empty(run: RunState, index: str) -> None:
    """A stage whose components sit on no node (a group at cardinality 0): nothing to do."""
    run.start(index)
    run.succeed(index)
