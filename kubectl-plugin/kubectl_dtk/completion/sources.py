"""Candidates from the cluster: instances, Tasks and their IDs, workflows, row numbers, assemblies.

Read with the kubeconfig, context and namespace the command line names, each request bounded by
REQUEST_DEADLINE_SECONDS: a shell user waits for every Tab, and an unreachable cluster must not
hold the prompt for the client's usual 30 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dtk_api import resources as r
from dtk_api.ordering import queue_key
from kubectl_dtk.api.client import Body, DtkClient
from kubectl_dtk.api.kubeconfig import context_names
from kubectl_dtk.api.objects import short_id
from kubectl_dtk.api.shards import with_all_rows
from kubectl_dtk.completion.answer import KEEP_ORDER, NO_FILES, Answer, Candidate

if TYPE_CHECKING:
    from kubectl_dtk.completion.words import Scan

# Seconds each request may take (at most three are made for one Tab: row numbers read the
# instance's Tasks and the chosen Task's shards). A local API answers in milliseconds.
REQUEST_DEADLINE_SECONDS = 1.0


def for_positional(metavar: str, scan: Scan, word: str) -> Answer:
    if metavar == "SI":
        return _instances(_client(scan))
    if metavar == "TASK":
        return _tasks(_client(scan), scan.instance)
    if metavar == "WORKFLOW" and scan.instance:
        return _workflows(_client(scan), scan.instance)
    if metavar == "INDEX" and scan.instance:
        return _rows(_client(scan), scan.instance, scan.values.get("task", ""))
    if metavar == "ASSEMBLY":
        return _assemblies(_client(scan))
    if metavar == "MODULE":
        return _modules(_client(scan))
    return Answer((), NO_FILES)  # a new name, params: nothing to offer


def for_flag(dest: str, scan: Scan, word: str) -> Answer:
    if dest == "task" and scan.instance:
        return _tasks(_client(scan), scan.instance)
    if dest == "target":
        return _targets(_client(scan))
    if dest == "namespace":
        return Answer([Candidate(name) for name in _client(scan).namespace_names()], NO_FILES)
    if dest == "kube_context":
        return Answer([Candidate(name) for name in context_names(scan.values.get("kubeconfig"))], NO_FILES)
    return Answer((), NO_FILES)


def _client(scan: Scan) -> DtkClient:
    return DtkClient(kubeconfig=scan.values.get("kubeconfig"), context=scan.values.get("kube_context"),
                     namespace=scan.values.get("namespace"), timeout=REQUEST_DEADLINE_SECONDS)


def _items(client: DtkClient, plural: str, labels: Mapping[str, str] | None = None) -> list[Body]:
    return list(client.list(plural, labels=labels).get("items", []))


def _name(body: Mapping[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("name", ""))


def _instances(client: DtkClient) -> Answer:
    found = _items(client, r.INSTANCE_PLURAL)
    return Answer([Candidate(_name(i), str((i.get("status") or {}).get("phase") or "")) for i in found])


def _queued_tasks(client: DtkClient, instance: str) -> list[Body]:
    """The instance's Tasks (every Task of the namespace without one) in the operator's queue order."""
    labels = {r.INSTANCE_LABEL: instance} if instance else None
    return sorted(_items(client, r.TASK_PLURAL, labels), key=queue_key)


def _tasks(client: DtkClient, instance: str) -> Answer:
    """Task names, newest first (the one a user most often wants), then the IDs list-tasks shows."""
    tasks = _queued_tasks(client, instance)[::-1]
    names = [Candidate(_name(t), f"{_workflow(t)} {_state(t)}") for t in tasks]
    ids = [Candidate(short_id(t), _name(t)) for t in tasks]
    return Answer(names + ids, NO_FILES | KEEP_ORDER)


def _workflow(task: Mapping[str, Any]) -> str:
    return str((task.get("spec") or {}).get("workflow", ""))


def _state(task: Mapping[str, Any]) -> str:
    return str((task.get("status") or {}).get("state") or "pending")


def _workflows(client: DtkClient, instance: str) -> Answer:
    assembly_name = str(((client.get(r.INSTANCE_PLURAL, instance).get("spec") or {}).get("assemblyRef") or {})
                        .get("name", ""))
    workflows = (client.get(r.ASSEMBLY_PLURAL, assembly_name).get("spec") or {}).get("workflows") or []
    return Answer([Candidate(str(w.get("name")), _params(w)) for w in workflows if isinstance(w, Mapping)])


def _params(workflow: Mapping[str, Any]) -> str:
    names = [str(param) for param in workflow.get("params") or []]
    return f"params: {', '.join(names)}" if names else ""


def _rows(client: DtkClient, instance: str, task_ref: str) -> Answer:
    """The row numbers of the latest Task (or of --task), in the table's order, each with its step."""
    tasks = _queued_tasks(client, instance)
    chosen = [t for t in tasks if task_ref in (_name(t), short_id(t))] if task_ref else tasks[-1:]
    if not chosen:
        return Answer((), NO_FILES)
    steps = (with_all_rows(client, chosen[-1]).get("status") or {}).get("steps") or []
    numbered = [step for step in steps if isinstance(step, Mapping) and step.get("index")]  # the top row has none
    return Answer([Candidate(str(step["index"]), _row_text(step)) for step in numbered], NO_FILES | KEEP_ORDER)


def _row_text(step: Mapping[str, Any]) -> str:
    node = step.get("node")
    return f"{step.get('name', '')}{f' on {node}' if node else ''} {step.get('status') or ''}".strip()


def _targets(client: DtkClient) -> Answer:
    found = client.list(r.TARGET_PLURAL, all_namespaces=True).get("items", [])
    return Answer([Candidate(_name(t), str((t.get("spec") or {}).get("provider") or "")) for t in found])


def _assemblies(client: DtkClient) -> Answer:
    found = _items(client, r.ASSEMBLY_PLURAL)
    return Answer([Candidate(_name(a), str((a.get("spec") or {}).get("description") or "")) for a in found])


def _modules(client: DtkClient) -> Answer:
    modules = {str((a.get("spec") or {}).get("module")) for a in _items(client, r.ASSEMBLY_PLURAL)}
    return Answer([Candidate(m) for m in sorted(modules - {"None", ""})])
