"""What happens to a ServiceInstance when it is created, changed or deleted (SPEC section 3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from dtk_api.targets import name_of
from dtk_api.validation import check_instance_spec
from dtk_operator.engine.instances import cardinalities, check_instance, key_of, refresh_instance, revision
from dtk_operator.engine.nodes import forget_nodes, recorded_nodes, remember_nodes, surplus_members
from dtk_operator.engine.services import Services
from dtk_operator.engine.target_users import count_users
from dtk_operator.engine.tasks import create_task, is_terminal, tasks_of
from dtk_operator.engine.trouble import let_go
from dtk_operator.kube import events
from dtk_operator.targets.base import TargetError


class RetryLater(Exception):
    """Not done yet; the caller should try again after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


async def reconcile_instance(services: Services, body: Mapping[str, Any]) -> None:
    async with services.reconciling(key_of(body)):
        await _reconcile(services, body)


async def _reconcile(services: Services, body: Mapping[str, Any]) -> None:
    namespace, name = key_of(body)
    # The event's body may predate our own last status write: decide on a fresh read.
    fresh = await services.kube.get(r.INSTANCE_PLURAL, namespace, name)
    if fresh is None:
        return
    checked = await check_instance(services, fresh)
    if checked.problem is not None:
        events.warning(fresh, reason=checked.problem.reason, message=checked.problem.message)
    elif checked.assembly is not None and checked.assembly_body is not None:
        spec = fresh.get("spec") or {}
        fresh = await _record_target(services, fresh, checked.target)
        await _terminate_surplus(services, fresh, cardinalities(spec, checked.assembly))
        if spec.get("power", "running") == "stopped":
            await power_off(services, fresh)
        elif not spec.get("staged"):
            await _power_on_if_stopped(services, fresh)
            wanted = revision(fresh, checked.assembly_body)
            if (fresh.get("status") or {}).get("appliedRevision") != wanted:
                await _new_task(services, fresh, r.CREATE_WORKFLOW, {"appliedRevision": wanted})
    generation = int(fresh["metadata"].get("generation") or 0)
    await refresh_instance(services, namespace, name, observed=generation)


async def _record_target(services: Services, body: Mapping[str, Any], target: Mapping[str, Any] | None) -> Any:
    """status.target, before anything runs: the Target every later Task and the deletion use."""
    name = name_of(target) if target is not None else ""
    if not name or (body.get("status") or {}).get("target") == name:
        return body
    namespace, instance = key_of(body)
    recorded = await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, instance, {"target": name})
    await count_users(services, name)
    return recorded


async def _new_task(services: Services, body: Mapping[str, Any], workflow: str, status: dict[str, Any]) -> None:
    """Numbered from the instance's counter; a replay after a crash adopts the same Task."""
    namespace, name = key_of(body)
    fresh = await services.kube.get(r.INSTANCE_PLURAL, namespace, name) or body
    number = int((fresh.get("status") or {}).get("taskCounter") or 0) + 1
    task = await create_task(services.kube, fresh, number=number, workflow=workflow)
    await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, name, {**status, "taskCounter": number})
    events.normal(fresh, reason="TaskCreated", message=f"task {task} created ({workflow})")


async def _power_on_if_stopped(services: Services, body: Mapping[str, Any]) -> None:
    """`power: running` after a stop: a Task whose stage 1 powers the nodes on (SPEC section 3)."""
    if not any(n.state == "stopped" for n in (await recorded_nodes(services, body)).values()):
        return
    namespace, name = key_of(body)
    pending = [t for t in await tasks_of(services.kube, namespace, name)
               if not is_terminal(t) and (t.get("spec") or {}).get("workflow") == r.POWER_ON_WORKFLOW]
    if not pending:
        await _new_task(services, body, r.POWER_ON_WORKFLOW, {})


async def power_off(services: Services, body: Mapping[str, Any]) -> None:
    """`power: stopped`: cancel what runs, then stop every running node."""
    namespace, name = key_of(body)
    await _wait_cancelled(services, namespace, name)
    running = [n for n in (await recorded_nodes(services, body)).values() if n.state == "running"]
    if not running:
        return
    target = await services.targets.for_instance(body)
    stopped = await target.stop_nodes(namespace, name, running)
    await remember_nodes(services, namespace, name, {n.name: n for n in stopped})
    events.normal(body, reason="NodesStopped", message=f"{len(stopped)} node(s) stopped")


async def _terminate_surplus(services: Services, body: Mapping[str, Any], sizes: Mapping[str, int]) -> None:
    """Scale down happens at once, highest member first, without waiting for a Task."""
    extra = surplus_members(await recorded_nodes(services, body), sizes)
    if not extra:
        return
    namespace, name = key_of(body)
    target = await services.targets.for_instance(body)
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


async def _wait_cancelled(services: Services, namespace: str, name: str) -> None:
    deadline = time.monotonic() + services.options.cancel_wait_seconds
    pause = 0.1
    while pending := await cancel_active_tasks(services, namespace, name):
        if time.monotonic() > deadline:
            raise RetryLater(f"waiting for task(s) {', '.join(pending)} to cancel", delay=10)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


async def release_instance(services: Services, body: Mapping[str, Any]) -> None:
    """The finalizer's work: cancel the running Task, then (policy Delete) terminate every node."""
    namespace, name = key_of(body)
    await _wait_cancelled(services, namespace, name)
    if problem := check_instance_spec(body.get("spec")):  # no target to terminate anything through
        return await let_go(services, body, why=f"the spec cannot be read ({problem})")
    fresh = await services.kube.get(r.INSTANCE_PLURAL, namespace, name) or body
    nodes = list((await recorded_nodes(services, fresh)).values())
    if (body.get("spec") or {}).get("deletionPolicy", "Delete") != "Delete":
        events.normal(body, reason="NodesRetained", message=f"deletionPolicy Retain: {len(nodes)} node(s) left running")
        return
    try:
        target = await services.targets.for_instance(body)
        await target.release(namespace, name, nodes, everything=True)
    except TargetError as error:  # e.g. credentials gone: retry, never drop the finalizer with machines up
        raise RetryLater(f"could not terminate the nodes: {error}", delay=30) from error
    events.normal(body, reason="NodesTerminated", message=f"{len(nodes)} node(s) terminated")
