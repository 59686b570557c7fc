"""Reading kube-dtk objects for display: lookups with the right exit codes, IDs, times, output."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.conditions import STALLED
from dtk_api.ordering import queue_key
from dtk_api.timefmt import parse_time
from kubectl_dtk import exit_codes
from kubectl_dtk.client import ApiError, Body
from kubectl_dtk.context import CommandError, Context
from kubectl_dtk.views.model import table_time
from kubectl_dtk.views.table import render_box_table

KIND_LABELS = {r.ASSEMBLY_PLURAL: "assembly", r.INSTANCE_PLURAL: "service instance", r.TASK_PLURAL: "task"}


def short_id(body: Mapping[str, Any]) -> str:
    """DTK showed numeric ids; ours are the first 8 hex digits of the object's uid."""
    return str(body.get("metadata", {}).get("uid", ""))[:8]


def created_at(body: Mapping[str, Any]) -> str:
    stamp = body.get("metadata", {}).get("creationTimestamp")
    return table_time(parse_time(stamp)) if stamp else ""


def require(ctx: Context, plural: str, name: str) -> Body:
    """The object, or exit 4 with kubectl's wording."""
    try:
        return ctx.client.get(plural, name)
    except ApiError as error:
        if error.not_found:
            raise CommandError(f'{KIND_LABELS[plural]} "{name}" not found in namespace '
                               f'"{ctx.client.namespace}"', exit_codes.NOT_FOUND) from error
        raise


def tasks_of(ctx: Context, instance: str) -> list[Body]:
    """The instance's Tasks in creation order (the operator's queue order)."""
    items = ctx.client.list(r.TASK_PLURAL, labels={r.INSTANCE_LABEL: instance}).get("items", [])
    return sorted(items, key=queue_key)


def latest_task(ctx: Context, instance: str) -> Body:
    return latest_task_of(ctx, require(ctx, r.INSTANCE_PLURAL, instance))


def latest_task_of(ctx: Context, instance: Body) -> Body:
    """The instance's newest Task. None yet: a stalled instance says why (the operator will not
    make one until it is fixed: exit 2, as `deploy` says it), any other has none (exit 4)."""
    name = str(instance.get("metadata", {}).get("name", ""))
    found = tasks_of(ctx, name)
    if found:
        return found[-1]
    stalled = stalled_message(instance)
    if stalled:
        raise CommandError(f"service instance {name} is stalled: {stalled}", exit_codes.USAGE_OR_API)
    raise CommandError(f"No tasks found for service instance ({name})", exit_codes.NOT_FOUND)


def stalled_message(instance: Mapping[str, Any]) -> str:
    """The Stalled condition's message when it is True (kstatus: a terminal problem), else ""."""
    for condition in (instance.get("status") or {}).get("conditions") or []:
        if condition.get("type") == STALLED and condition.get("status") == "True":
            return str(condition.get("message") or condition.get("reason") or "stalled")
    return ""


def stall_note(instance: Mapping[str, Any], *, shown_task: str = "", qualified: bool = False) -> str:
    """`service instance x is stalled: why`, for stderr beside a listing or a Task; empty when
    it is not stalled, or when the stall is the failure of the Task shown (which says it).
    `qualified` (-A) names it `namespace/name`."""
    stalled = stalled_message(instance)
    if not stalled or (shown_task and stalled.startswith(f"task {shown_task} ")):
        return ""
    meta = instance.get("metadata", {})
    name = f"{meta.get('namespace', '')}/{meta.get('name', '')}" if qualified else meta.get("name", "")
    return f"service instance {name} is stalled: {stalled}"


def as_list(items: Sequence[Any]) -> dict[str, Any]:
    """`-o json|yaml` of a listing: kubectl's List, so the same jq/yq filters work on both."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def emit(ctx: Context, *, headers: Sequence[str], rows: Sequence[Sequence[str]], objects: Any) -> None:
    """A DTK box table, or the objects themselves as JSON or YAML."""
    if ctx.output == "json":
        ctx.say(json.dumps(objects, indent=2, sort_keys=False))
    elif ctx.output == "yaml":
        import yaml  # only when asked: the table path stays light

        ctx.say(yaml.safe_dump(objects, sort_keys=False).rstrip("\n"))
    else:
        ctx.say(render_box_table(headers, rows, no_headers=ctx.no_headers).rstrip("\n"))
