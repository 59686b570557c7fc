"""Tasks of one ServiceInstance: creation, queue order, summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from dtk_api import resources as r
from dtk_api.instance_status import TaskSummary
from dtk_api.ordering import UNNUMBERED, queue_key, sequence_of
from dtk_api.task_status import TERMINAL_TASK_STATES
from dtk_operator.engine.services import Services
from dtk_operator.kube.client import AlreadyExists, Body, KubeClient


def is_terminal(task: Mapping[str, Any]) -> bool:
    return str((task.get("status") or {}).get("state", "")) in TERMINAL_TASK_STATES


async def tasks_of(kube: KubeClient, namespace: str, instance: str) -> list[Body]:
    """The instance's Tasks in queue order. One being deleted is gone already for the queue and
    the instance's LAST RUN: it must not hold up the next Task while its finalizer is released."""
    found = await kube.list(r.TASK_PLURAL, namespace, labels={r.INSTANCE_LABEL: instance})
    return sorted((t for t in found if not (t.get("metadata") or {}).get("deletionTimestamp")), key=queue_key)


def summaries(tasks: Sequence[Mapping[str, Any]]) -> list[TaskSummary]:
    out = []
    for task in tasks:
        status = task.get("status") or {}
        out.append(TaskSummary(
            name=task["metadata"]["name"], workflow=str(task.get("spec", {}).get("workflow", "")),
            state=str(status.get("state") or "pending"), message=_failure_text(status),
            started=bool(status.get("startedAt")),
        ))
    return out


def _failure_text(status: Mapping[str, Any]) -> str:
    failure = status.get("failure") or {}
    if failure and failure.get("index"):
        where = f"step {failure.get('index')}" + (f" on {failure['node']}" if failure.get("node") else "")
        return f"{where}: {failure.get('message', '')}"
    if failure:  # the Task itself failed (bad input, its own timeout): no step to name
        return str(failure.get("message", ""))
    return str(status.get("message") or "")


def task_body(instance: Mapping[str, Any], *, name: str, workflow: str, params: Mapping[str, str],
              sequence: int) -> Body:
    """Labels are ours alone: GitOps tracking labels of the instance are never copied (SPEC 6)."""
    meta = instance["metadata"]
    owned = adoption_patch({}, instance)["metadata"]
    return {
        "apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
        "metadata": {"name": name, "namespace": meta["namespace"], "ownerReferences": owned["ownerReferences"],
                     "labels": {r.INSTANCE_LABEL: meta["name"], r.WORKFLOW_LABEL: workflow},
                     "annotations": {r.GENERATION_ANNOTATION: str(meta.get("generation", 0)),
                                     r.SEQUENCE_ANNOTATION: str(sequence)}},
        "spec": {"serviceInstanceRef": {"name": meta["name"]}, "workflow": workflow, "params": dict(params),
                 "timeoutSeconds": r.DEFAULT_TASK_TIMEOUT_SECONDS},
    }


def adoption_patch(task: Mapping[str, Any], instance: Mapping[str, Any], *, sequence: int = 0) -> dict[str, Any]:
    """A Task made by hand (kubectl apply) joins its instance's queue and garbage collection:
    the queue finds Tasks by label and orders them by sequence, and the ownerReference removes
    them with the instance."""
    meta, owner = task.get("metadata", {}), instance["metadata"]
    patch: dict[str, Any] = {}
    if sequence and sequence_of(task) == UNNUMBERED:
        patch["annotations"] = {r.SEQUENCE_ANNOTATION: str(sequence)}
    labels = meta.get("labels") or {}
    if labels.get(r.INSTANCE_LABEL) != owner["name"]:
        patch["labels"] = {r.INSTANCE_LABEL: owner["name"]}
    spec = task.get("spec")
    workflow = spec.get("workflow") if isinstance(spec, Mapping) else None
    if isinstance(workflow, str) and workflow and labels.get(r.WORKFLOW_LABEL) != workflow:
        patch["labels"] = {**patch.get("labels", {}), r.WORKFLOW_LABEL: workflow}  # as on the Tasks it creates
    if not meta.get("ownerReferences"):
        patch["ownerReferences"] = [{"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "name": owner["name"],
                                     "uid": owner["uid"], "controller": True, "blockOwnerDeletion": False}]
    return {"metadata": patch} if patch else {}


async def create_task(kube: KubeClient, instance: Mapping[str, Any], *, number: int, workflow: str) -> str:
    """Idempotent: a replay after a crash finds its own Task (same name, same owner) and adopts it."""
    meta = instance["metadata"]
    name = f"{meta['name']}-{number}"
    try:
        body = task_body(instance, name=name, workflow=workflow, params={}, sequence=number)
        await kube.create(r.TASK_PLURAL, meta["namespace"], body)
    except AlreadyExists:
        existing = await kube.get(r.TASK_PLURAL, meta["namespace"], name) or {}
        owners = existing.get("metadata", {}).get("ownerReferences", [])
        if not any(o.get("uid") == meta["uid"] for o in owners):
            raise
    return name


async def adopt(services: Services, task: Mapping[str, Any], instance: Mapping[str, Any]) -> None:
    """Labels, owns and numbers a hand-made Task (after every Task the instance already has).
    Every unnumbered Task of the instance is numbered at once, in the order they arrived: their
    daemons start in no particular order, and the first to get here must not jump the queue."""
    meta = instance["metadata"]
    async with services.lock((meta["namespace"], meta["name"])):
        if not adoption_patch(task, instance, sequence=1):
            return
        tasks: list[Mapping[str, Any]] = list(await tasks_of(services.kube, meta["namespace"], meta["name"]))
        if all(t["metadata"]["uid"] != task["metadata"]["uid"] for t in tasks):
            tasks.append(task)  # not labelled for the instance yet, so not listed
        known = [sequence_of(t) for t in tasks]
        highest = max([n for n in known if n != UNNUMBERED] + [int((instance.get("status") or {}).get("taskCounter")
                                                                    or 0)])
        unnumbered = sorted((t for t in tasks if sequence_of(t) == UNNUMBERED), key=partial(_arrival_key, services))
        for number, waiting in enumerate(unnumbered, start=highest + 1):
            patch = adoption_patch(waiting, instance, sequence=number)
            await services.kube.patch(r.TASK_PLURAL, meta["namespace"], waiting["metadata"]["name"], patch)
        if sequence_of(task) != UNNUMBERED and (patch := adoption_patch(task, instance)):
            await services.kube.patch(r.TASK_PLURAL, meta["namespace"], task["metadata"]["name"], patch)


def _arrival_key(services: Services, task: Mapping[str, Any]) -> tuple[str, int, str]:
    meta = task["metadata"]
    seen = services.arrival(str(meta["uid"]))
    version = str(meta.get("resourceVersion", ""))
    if seen is None:  # not seen by a watch yet: its current version is the best guess of its place
        seen = int(version) if version.isdigit() else 0
    return str(meta.get("creationTimestamp", "")), seen, str(meta.get("name", ""))
