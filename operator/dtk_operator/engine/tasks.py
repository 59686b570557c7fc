"""Tasks of one ServiceInstance: creation, queue order, summaries."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.instance_status import TaskSummary
from dtk_api.task_status import TERMINAL_TASK_STATES
from dtk_operator.kube.client import AlreadyExists, Body, KubeClient

_SEQUENCE = re.compile(r"-(\d+)$")


def queue_key(task: Mapping[str, Any]) -> tuple[str, int, str]:
    """Creation order. creationTimestamp has one-second resolution, so the name's sequence
    number (`<instance>-<n>`) breaks ties before the name itself does."""
    meta = task.get("metadata", {})
    name = str(meta.get("name", ""))
    match = _SEQUENCE.search(name)
    return str(meta.get("creationTimestamp", "")), int(match[1]) if match else 0, name


def is_terminal(task: Mapping[str, Any]) -> bool:
    return str((task.get("status") or {}).get("state", "")) in TERMINAL_TASK_STATES


async def tasks_of(kube: KubeClient, namespace: str, instance: str) -> list[Body]:
    found = await kube.list(r.TASK_PLURAL, namespace, labels={r.INSTANCE_LABEL: instance})
    return sorted(found, key=queue_key)


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
    if failure:
        where = f"step {failure.get('index')}" + (f" on {failure['node']}" if failure.get("node") else "")
        return f"{where}: {failure.get('message', '')}"
    return str(status.get("message") or "")


def task_body(instance: Mapping[str, Any], *, name: str, workflow: str, params: Mapping[str, str]) -> Body:
    """Labels are ours alone: GitOps tracking labels of the instance are never copied (SPEC 6)."""
    meta = instance["metadata"]
    owned = adoption_patch({}, instance)["metadata"]
    return {
        "apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
        "metadata": {"name": name, "namespace": meta["namespace"], "ownerReferences": owned["ownerReferences"],
                     "labels": {r.INSTANCE_LABEL: meta["name"], r.WORKFLOW_LABEL: workflow},
                     "annotations": {r.GENERATION_ANNOTATION: str(meta.get("generation", 0))}},
        "spec": {"serviceInstanceRef": {"name": meta["name"]}, "workflow": workflow, "params": dict(params),
                 "timeoutSeconds": r.DEFAULT_TASK_TIMEOUT_SECONDS},
    }


def adoption_patch(task: Mapping[str, Any], instance: Mapping[str, Any]) -> dict[str, Any]:
    """A Task made by hand (kubectl apply) joins its instance's queue and garbage collection:
    the queue finds Tasks by label, and the ownerReference removes them with the instance."""
    meta, owner = task.get("metadata", {}), instance["metadata"]
    patch: dict[str, Any] = {}
    if (meta.get("labels") or {}).get(r.INSTANCE_LABEL) != owner["name"]:
        patch["labels"] = {r.INSTANCE_LABEL: owner["name"]}
    if not meta.get("ownerReferences"):
        patch["ownerReferences"] = [{"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "name": owner["name"],
                                     "uid": owner["uid"], "controller": True, "blockOwnerDeletion": False}]
    return {"metadata": patch} if patch else {}


async def create_task(kube: KubeClient, instance: Mapping[str, Any], *, number: int, workflow: str) -> str:
    """Idempotent: a replay after a crash finds its own Task (same name, same owner) and adopts it."""
    meta = instance["metadata"]
    name = f"{meta['name']}-{number}"
    try:
        body = task_body(instance, name=name, workflow=workflow, params={})
        await kube.create(r.TASK_PLURAL, meta["namespace"], body)
    except AlreadyExists:
        existing = await kube.get(r.TASK_PLURAL, meta["namespace"], name) or {}
        owners = existing.get("metadata", {}).get("ownerReferences", [])
        if not any(o.get("uid") == meta["uid"] for o in owners):
            raise
    return name
