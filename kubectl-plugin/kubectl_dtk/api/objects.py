"""Finding kube-dtk objects: lookups by name or by the ID a table shows, with the right exit codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.conditions import STALLED
from dtk_api.ordering import queue_key
from kubectl_dtk import exit_codes
from kubectl_dtk.api.client import Body
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError, CommandError

KIND_LABELS = {r.ASSEMBLY_PLURAL: "assembly", r.INSTANCE_PLURAL: "service instance", r.TASK_PLURAL: "task"}
# A table ID is 8 hex digits; shorter prefixes would too often match several objects.
MIN_ID_PREFIX = 8


def short_id(body: Mapping[str, Any]) -> str:
    """DTK showed numeric ids; ours are the first 8 hex digits of the object's uid."""
    return str(body.get("metadata", {}).get("uid", ""))[:8]


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


def match_ref(items: Sequence[Mapping[str, Any]], ref: str, *, kind: str, where: str,
              aliases: Callable[[Mapping[str, Any]], Sequence[str]] = lambda _: ()) -> Mapping[str, Any]:
    """The one object named `ref`: its name, the ID a table shows (a uid prefix), or an alias.

    Tables show IDs, commands take names; accepting both lets a user copy either, as DTK did.
    Raises exit 4 when nothing matches (`where` ends the message: `in namespace "x"`) and exit 2
    when several do.
    """
    by_name = [item for item in items if item.get("metadata", {}).get("name") == ref]
    if by_name:
        return by_name[0]
    found = [item for item in items if is_id_of(ref, item) or ref in aliases(item)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError(f'{kind} "{ref}" not found {where}', exit_codes.NOT_FOUND)
    names = ", ".join(sorted(str(item.get("metadata", {}).get("name")) for item in found))
    raise CommandError(f'"{ref}" matches several {kind}s ({names}): name one', exit_codes.USAGE_OR_API)


def is_id_of(ref: str, item: Mapping[str, Any]) -> bool:
    """`ref` is the ID a table shows for `item` (or a longer prefix of its uid)."""
    uid = str(item.get("metadata", {}).get("uid", ""))
    return len(ref) >= MIN_ID_PREFIX and uid.startswith(ref.lower())
