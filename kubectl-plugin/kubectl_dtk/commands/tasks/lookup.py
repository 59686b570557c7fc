"""One Task of an instance, by its name or the ID list-tasks shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError, CommandError
from kubectl_dtk.api.objects import match_ref, tasks_of


def task_of(ctx: Context, instance: str, ref: str) -> Mapping[str, Any]:
    """One Task of `instance` by its name or the ID list-tasks shows (exit 4 if it has no such
    Task; a Task of another instance by that name is named as such)."""
    where = f'for service instance "{instance}" in namespace "{ctx.client.namespace}"'
    try:
        return match_ref(tasks_of(ctx, instance), ref, kind="task", where=where)
    except CommandError as error:
        owner = _owner_of_task(ctx, ref) if error.code == exit_codes.NOT_FOUND else ""
        if owner:
            raise CommandError(f'task "{ref}" is not a task of service instance "{instance}" (it is one of '
                               f'"{owner}")', exit_codes.NOT_FOUND) from error
        raise


def _owner_of_task(ctx: Context, name: str) -> str:
    if "/" in name:  # no object name: it must not become part of a URL
        return ""
    try:
        task = ctx.client.get(r.TASK_PLURAL, name)
    except ApiError as error:
        if error.not_found:
            return ""
        raise
    return str(((task.get("spec") or {}).get("serviceInstanceRef") or {}).get("name", "")) or "?"
