"""Running one Task start to end while the watch timestamps it: a converge, or a workflow run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from benchkit import shapes
from benchkit.kube import Body
from benchkit.stack import Stack
from benchkit.watch import Seen
from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES


@dataclass(frozen=True)
class Run:
    instance: str
    created: float  # time.perf_counter() when the client's create call returned
    started: Seen  # the first event showing the Task past `pending` (normally `executing`)
    final: Seen  # the event showing its terminal state

    @property
    def task(self) -> str:
        return self.final.name

    @property
    def body(self) -> Body:
        return self.final.obj


def converge(stack: Stack, *, assembly: str, instance: str, timeout: float) -> Run:
    """Creates a ServiceInstance and follows the Task the operator creates for it."""
    since = stack.watch.mark()
    created = stack.kube.create(r.INSTANCE_PLURAL, shapes.instance(instance, assembly))
    return follow(stack, instance=instance, since=since, created=created, timeout=timeout,
                   mine=lambda seen: seen.instance == instance)


def run_workflow(stack: Stack, *, instance: str, task: str, workflow: str, timeout: float) -> Run:
    """Creates a Task for `workflow` directly (as `kubectl dtk exec` would) and follows it."""
    since = stack.watch.mark()
    created = stack.kube.create(r.TASK_PLURAL, shapes.task(task, instance_name=instance, workflow=workflow))
    return follow(stack, instance=instance, since=since, created=created, timeout=timeout,
                   mine=lambda seen: seen.name == task)


def follow(stack: Stack, *, instance: str, since: int, created: float, timeout: float,
            mine: Callable[[Seen], bool]) -> Run:
    """Waits for the start and the end (one deadline for both), then for the instance to catch up."""
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(deadline - time.monotonic(), 0.0)

    started = stack.watch.wait_for(f"the task of {instance} to start",
                                   lambda s: mine(s) and s.state not in ("", "pending"), timeout=left(), since=since)
    final = stack.watch.wait_for(f"the task of {instance} to end",
                                 lambda s: mine(s) and s.state in TERMINAL_TASK_STATES, timeout=left(), since=since)
    if final.state != "succeeded":
        failure = (final.obj.get("status") or {}).get("failure")
        raise RuntimeError(f"task {final.name} ended {final.state}: {failure}")
    stack.settle(instance, final.name)
    return Run(instance=instance, created=created, started=started, final=final)
