"""Small helpers the instance and task commands share: bounded waits, name-or-ID lookups, flag checks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.client import ApiError
from kubectl_dtk.context import CommandError, Context
from kubectl_dtk.objects import emit, tasks_of

T = TypeVar("T")

# Polling pauses (seconds): quick at first, since the operator usually answers within a few
# hundred milliseconds, then at most one request a second for the rest of the deadline.
POLL_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)
POLL_PAUSE_MAX = 1.0
# A table ID is 8 hex digits; shorter prefixes would too often match several objects.
MIN_ID_PREFIX = 8


def poll_until(probe: Callable[[], T | None], *, timeout: float) -> T | None:
    """`probe()` until it returns something, or None once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        found = probe()
        if found is not None:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        pause = POLL_PAUSES[attempt] if attempt < len(POLL_PAUSES) else POLL_PAUSE_MAX
        time.sleep(min(pause, remaining))
        attempt += 1


def wants_object(ctx: Context) -> bool:
    """`-o json|yaml`: the command prints the object it made or changed instead of a sentence."""
    return ctx.output in ("json", "yaml")


def print_object(ctx: Context, body: object) -> None:
    emit(ctx, headers=(), rows=(), objects=body)


def no_op(ctx: Context, sentence: str, body: object) -> int:
    """Nothing to do: the sentence; with -o json|yaml, the object as it stands on stdout (an empty
    List when there is none, as kubectl answers a query that matched nothing), the sentence on
    stderr. A script asking for JSON always gets JSON."""
    if wants_object(ctx):
        print_object(ctx, body)
        ctx.warn(sentence)
    else:
        ctx.say(sentence)
    return exit_codes.OK


def single_namespace(ctx: Context, command: str) -> None:
    """kubectl refuses to fetch a named object across namespaces; so do the commands that take one."""
    if ctx.all_namespaces:
        raise CommandError(f"{command} works on one service instance: name its namespace with -n, not -A",
                           exit_codes.USAGE_OR_API)


def check_stream_output(ctx: Context, *, streaming: bool) -> None:
    """`-o jsonl` is the stream's format; json and yaml describe one object and cannot carry one."""
    if ctx.output == "jsonl" and not streaming:
        raise CommandError("-o jsonl is the format of a stream: add -s", exit_codes.USAGE_OR_API)
    if streaming and ctx.output in ("json", "yaml"):
        raise CommandError(f"-o {ctx.output} cannot describe a stream: use -o jsonl with -s",
                           exit_codes.USAGE_OR_API)


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
