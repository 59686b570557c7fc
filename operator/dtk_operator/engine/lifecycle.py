"""What happens to a ServiceInstance when it is created, changed or deleted (SPEC section 3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from dtk_operator.engine.instances import cardinalities, check_instance, key_of, refresh_instance, revision
from dtk_operator.engine.nodes import forget_nodes, recorded_nodes, surplus_members
from dtk_operator.engine.services import Services
from dtk_operator.engine.tasks import create_task, is_terminal, tasks_of
from dtk_operator.kube import events


class RetryLater(Exception):
    """Not done yet; the caller should try again after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


async def reconcile_instance(services: Services, body: Mapping[str, Any]) -> None:
    namespace, name = key_of(body)
    generation = int(body["metadata"].get("generation") or 0)
    # The event's body may predate our own last status write: decide on a fresh read.
    fresh = await services.kube.get(r.INSTANCE_PLURAL, namespace, name)
    if fresh is None:
        return
    checked = await check_instance(services, fresh)
    if checked.problem is not None:
        events.warning(fresh, reason=checked.problem.reason, message=checked.problem.message)
    elif checked.assembly is not None and checked.assembly_body is not None:
        spec, status = fresh.get("spec") or {}, fresh.get("status") or {}
        await _terminate_surplus(services, fresh, cardinalities(spec, checked.assembly))
        wanted = revision(fresh, checked.assembly_body)
        if not spec.get("staged") and spec.get("power", "running") == "running" \
                and status.get("appliedRevision") != wanted:
            number = int(status.get("taskCounter") or 0) + 1
            task = await create_task(services.kube, fresh, number=number, workflow=r.CREATE_WORKFLOW)
            await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, name,
                                             {"appliedRevision": wanted, "taskCounter": number})
            events.normal(fresh, reason="TaskCreated", message=f"task {task} created to converge the instance")
    await refresh_instance(services, namespace, name, observed=generation)


async def _terminate_surplus(services: Services, body: Mapping[str, Any], sizes: Mapping[str, int]) -> None:
    """Scale down happens at once, highest member first, without waiting for a Task."""
    extra = surplus_members(recorded_nodes(body), sizes)
    if not extra:
        return
    namespace, name = key_of(body)
    target = services.targets[str(body["spec"]["target"].get("provider", "local"))]
    await target.release(namespace, name, extra)
    await forget_nodes(services, namespace, name, [n.name for n in extra])
    events.normal(body, reason="NodesTerminated", message="scaled down: " + ", ".join(n.name for n in extra))


async def cancel_active_tasks(services: Services, namespace: str, name: str) -> list[str]:
    """Asks every unfinished Task to cancel; returns the names still unfinished."""
    active = [t for t in await tasks_of(services.kube, namespace, name) if not is_terminal(t)]
    for task in active:
        if not (task.get("spec") or {}).get("cancel"):
            await services.kube.patch(r.TASK_PLURAL, namespace, task["metadata"]["name"], {"spec": {"cancel": True}})
    return [t["metadata"]["name"] for t in active]


async def release_instance(services: Services, body: Mapping[str, Any]) -> None:
    """The finalizer's work: cancel the running Task, then (policy Delete) terminate every node."""
    namespace, name = key_of(body)
    deadline = time.monotonic() + services.options.cancel_wait_seconds
    pause = 0.1
    while pending := await cancel_active_tasks(services, namespace, name):
        if time.monotonic() > deadline:
            raise RetryLater(f"waiting for task(s) {', '.join(pending)} to cancel", delay=10)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
    fresh = await services.kube.get(r.INSTANCE_PLURAL, namespace, name) or body
    nodes = list(recorded_nodes(fresh).values())
    if (body.get("spec") or {}).get("deletionPolicy", "Delete") == "Delete" and nodes:
        target = services.targets.get(str(body["spec"].get("target", {}).get("provider", "local")))
        if target is not None:
            await target.release(namespace, name, nodes)
        events.normal(body, reason="NodesTerminated", message=f"{len(nodes)} node(s) terminated")
