"""What the Task commands decide before they write: params, the Task to create, the Task to cancel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES
from dtk_api.templating import SAFE_PARAM_VALUE
from kubectl_dtk import exit_codes
from kubectl_dtk.api.client import Body
from kubectl_dtk.api.errors import CommandError

PARAMS_SYNTAX = "expected k=v pairs separated by commas (k=v,k2=v2)"


def parse_params(words: Sequence[str]) -> dict[str, str]:
    """DTK's `k=v,k2=v2` (several words are joined with commas, so `k=v k2=v2` works too).

    A value may hold `=` (split at the first one) but not a comma. Values are checked against
    the operator's rule here so that a bad one is refused at once, naming the param (exit 2).
    """
    params: dict[str, str] = {}
    for pair in ",".join(words).split(",") if words else ():
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise CommandError(f"ill-formed params '{pair}': {PARAMS_SYNTAX}", exit_codes.USAGE_OR_API)
        if key in params:
            raise CommandError(f"param '{key}' is given twice", exit_codes.USAGE_OR_API)
        if not SAFE_PARAM_VALUE.match(value):
            raise CommandError(f"param '{key}' has a value that is not allowed: only letters, digits and "
                               "._:/@+=,- may be used", exit_codes.USAGE_OR_API)
        params[key] = value
    return params


def task_body(instance: str, *, workflow: str, params: Mapping[str, str], message: str) -> Body:
    """Named `<instance>-<random>` by the API server; the operator numbers it in the instance's
    queue and makes the instance its owner (so it goes when the instance goes)."""
    spec: dict[str, Any] = {"serviceInstanceRef": {"name": instance}, "workflow": workflow, "params": dict(params)}
    if message:
        spec["message"] = message
    return {"apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
            "metadata": {"generateName": f"{instance}-",
                         "labels": {r.INSTANCE_LABEL: instance, r.WORKFLOW_LABEL: workflow}}, "spec": spec}


def state_of(task: Mapping[str, Any]) -> str:
    """A Task the operator has not written a status for yet is waiting: pending."""
    return str((task.get("status") or {}).get("state") or "pending")


def running_task(tasks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """What `cancel-task` without a name cancels: the executing Task, else the next one to run
    (the first pending in queue order). `tasks` are in queue order (objects.tasks_of)."""
    for wanted in ("executing", "pending"):
        found = [task for task in tasks if state_of(task) == wanted]
        if found:
            return found[0]
    return None


def is_finished(task: Mapping[str, Any]) -> bool:
    return state_of(task) in TERMINAL_TASK_STATES


def workflow_names(assembly: Mapping[str, Any]) -> list[str]:
    workflows = (assembly.get("spec") or {}).get("workflows") or []
    return [str(w.get("name")) for w in workflows if isinstance(w, Mapping)]


def check_workflow(assembly: Mapping[str, Any], workflow: str) -> None:
    """Refused here (exit 4) rather than as a failed Task, with the names that would work."""
    names = workflow_names(assembly)
    if workflow not in names:
        name = assembly.get("metadata", {}).get("name")
        raise CommandError(f'workflow "{workflow}" not found in assembly "{name}" (it has: '
                           f'{", ".join(names) or "none"})', exit_codes.NOT_FOUND)
