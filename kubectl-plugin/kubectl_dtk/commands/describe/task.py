"""`describe-task [TASK...]`: vappio's `vp-describe-task` over the Tasks of a namespace.

Order: named Tasks in the order given (as vappio loaded them); otherwise creation order, the
operator's queue order. `-b` waits for every listed Task to end, then `--nc` and `--exit-code`
judge what is left, as in vappio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from http.client import HTTPException
from typing import Any

from dtk_api import resources as r
from dtk_api.ordering import queue_key
from kubectl_dtk import exit_codes
from kubectl_dtk.api.client import Body
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError, CommandError
from kubectl_dtk.api.objects import is_id_of
from kubectl_dtk.follow.watch import is_finished
from kubectl_dtk.views.describe import NewMessages, described, render, shown_kinds
from kubectl_dtk.views.output import as_list, emit

# vappio's poll: 1 s, doubling up to 30 s (and back to 1 s whenever a Task changed). Each pause is
# a watch on the first waited-for Task, so a change to it (its end, a new message) ends the pause
# at once: `-b TASK`, the common case, is driven by changes, not by the poll.
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 30.0
Key = tuple[str, str]  # (namespace, name): with -A the same name may live in several namespaces


def register(commands: Any, common_flags: Callable[..., argparse.ArgumentParser]) -> None:
    text = "Tasks one line each, as vappio's describe-task: state, progress, last update, messages"
    parser = commands.add_parser("describe-task", parents=[common_flags()], help=text,
                                 description=f"{text[0].upper()}{text[1:]}. Without TASK: every Task of the "
                                             "namespace (-A: of every namespace).")
    parser.add_argument("tasks", nargs="*", metavar="TASK",
                        help="these Tasks, by name or the ID list-tasks shows (default: every Task)")
    for flag, text in (("--show", "print notification messages"),
                       ("--show-error", "print error messages, with their stack traces"),
                       ("--show-debug", "print debug messages"),
                       ("--show-all", "print every message, results included"),
                       ("--nc", "hide succeeded Tasks (applied after --block)"),
                       ("--exit-code", "exit 1 if any Task shown did not succeed"),
                       ("--no-print-polling", "with -b, print nothing until the Tasks have ended")):
        parser.add_argument(flag, action="store_true", help=text)
    parser.add_argument("-b", "--block", action="store_true",
                        help="wait until every Task has ended, printing new messages as they come")
    parser.add_argument("--timeout", type=_seconds, help="with -b, give up after this many seconds (exit 3)")
    parser.set_defaults(run=run)


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text}")
    return value


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.timeout is not None and not args.block:
        raise CommandError("--timeout only applies with -b/--block", exit_codes.USAGE_OR_API)
    names = list(dict.fromkeys(args.tasks))  # a name given twice is shown once
    tasks = fetch(ctx, names)
    if not tasks and ctx.output == "table":
        where = "any namespace" if ctx.all_namespaces else f'namespace "{ctx.client.namespace}"'
        ctx.warn(f"No tasks found in {where}.")  # kubectl's habit: stdout stays empty
        return exit_codes.OK
    kinds = shown_kinds(show=args.show, show_error=args.show_error, show_debug=args.show_debug,
                        show_all=args.show_all)
    timed_out = False
    if args.block:
        tasks, timed_out = block(ctx, names, tasks, timeout=args.timeout, stream_kinds=_streamed(ctx, args, kinds))
    if args.nc:
        tasks = [task for task in tasks if _state(task) != "succeeded"]
    show(ctx, tasks, kinds)
    if timed_out:
        raise CommandError(f"the tasks did not all end within {args.timeout:g} s", exit_codes.TIMEOUT)
    failed = any(_state(task) != "succeeded" for task in tasks)
    return exit_codes.TASK_FAILED if args.exit_code and failed else exit_codes.OK


def _streamed(ctx: Context, args: argparse.Namespace, kinds: frozenset[str]) -> frozenset[str] | None:
    """What -b prints as it comes: the --show* selection, or else notifications and errors (what
    vappio's blockOnTask passed on); nothing with --no-print-polling or JSON/YAML on stdout."""
    if args.no_print_polling or ctx.output != "table":
        return None
    return kinds or frozenset({"notification", "error"})


def show(ctx: Context, tasks: Sequence[Body], kinds: frozenset[str]) -> None:
    if ctx.output != "table":
        emit(ctx, headers=(), rows=(), objects=as_list(tasks))
        return
    ctx.out.write(render([described(task, qualified=ctx.all_namespaces) for task in tasks], kinds))


def fetch(ctx: Context, refs: Sequence[str]) -> list[Body]:
    """The listed Tasks, each by name or by the ID list-tasks shows (exit 4 naming any that is
    missing), or every Task in creation order. With -A a name must be in one namespace only."""
    if refs and not ctx.all_namespaces:
        return _once([_get(ctx, ref) for ref in refs])
    items = sorted(ctx.client.list(r.TASK_PLURAL, all_namespaces=ctx.all_namespaces).get("items", []),
                   key=queue_key)
    return _once([_one(ctx, items, ref) for ref in refs]) if refs else items


def _once(tasks: Sequence[Body]) -> list[Body]:
    """A Task named twice (by name and by ID) is shown once, where it was first named."""
    return list({_key(task): task for task in tasks}.values())


def _get(ctx: Context, ref: str) -> Body:
    """One GET by name (the usual case); else the namespace's Task with that ID."""
    if "/" not in ref:  # no object name: it must not become part of a URL
        try:
            return ctx.client.get(r.TASK_PLURAL, ref)
        except ApiError as error:
            if not error.not_found:
                raise
    return _one(ctx, ctx.client.list(r.TASK_PLURAL).get("items", []), ref)


def _one(ctx: Context, items: Sequence[Body], ref: str) -> Body:
    found = [task for task in items if _key(task)[1] == ref] or [task for task in items if is_id_of(ref, task)]
    if len(found) == 1:
        return found[0]
    if not found:
        where = "any namespace" if ctx.all_namespaces else f'namespace "{ctx.client.namespace}"'
        raise CommandError(f'task "{ref}" not found in {where}', exit_codes.NOT_FOUND)
    if len({_key(task)[1] for task in found}) == 1:  # one name, several namespaces (-A)
        spaces = ", ".join(sorted(_key(task)[0] for task in found))
        raise CommandError(f'task "{ref}" is in several namespaces ({spaces}): choose one with -n',
                           exit_codes.USAGE_OR_API)
    names = ", ".join(sorted("/".join(_key(task)) for task in found))
    raise CommandError(f'"{ref}" matches several tasks ({names}): name one', exit_codes.USAGE_OR_API)


def block(ctx: Context, names: Sequence[str], tasks: list[Body], *, timeout: float | None,
          stream_kinds: frozenset[str] | None) -> tuple[list[Body], bool]:
    """Waits until every Task has ended; returns them as last read and whether `timeout` passed.

    Ends when all have ended, at the deadline, or with an error (a Task deleted meanwhile: exit 4).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    news = NewMessages(stream_kinds or frozenset(), qualified=ctx.all_namespaces,
                       only={_key(t) for t in tasks if not is_finished(t)})
    pause = FIRST_PAUSE_SECONDS
    while True:
        if stream_kinds:
            ctx.out.write(news.text(tasks))
            ctx.out.flush()  # a pipe or a CI log sees each batch as it comes, not at exit
        waiting = [task for task in tasks if not is_finished(task)]
        remaining = float("inf") if deadline is None else deadline - time.monotonic()
        if not waiting or remaining <= 0:
            return tasks, bool(waiting)
        _pause(ctx, waiting[0], min(pause, remaining))
        fresh = _refetch(ctx, names, tasks)
        changed = [_version(a) for a in fresh] != [_version(b) for b in tasks]
        pause = FIRST_PAUSE_SECONDS if changed else min(pause * 2, MAX_PAUSE_SECONDS)
        tasks = fresh


def _refetch(ctx: Context, names: Sequence[str], tasks: Sequence[Body]) -> list[Body]:
    """The same Tasks read again: Tasks created meanwhile do not join (vappio kept its set too)."""
    found = {_key(task): task for task in fetch(ctx, names)}
    gone = [key for key in map(_key, tasks) if key not in found]
    if gone:
        raise CommandError(f'task "{gone[0][1]}" was deleted while waiting for it', exit_codes.NOT_FOUND)
    return [found[_key(task)] for task in tasks]


def _pause(ctx: Context, task: Body, seconds: float) -> None:
    """Sleeps `seconds`, or less when `task` changes first (a watch on it). The watch only reaches
    the client's own namespace; a Task elsewhere (-A), or a failed watch, gets a plain sleep."""
    started = time.monotonic()
    if seconds >= 1 and _key(task)[0] == ctx.client.namespace:
        try:
            for _event in ctx.client.watch(r.TASK_PLURAL, name=_key(task)[1], resource_version=_version(task),
                                           timeout_seconds=int(seconds)):
                return
        except (ApiError, OSError, HTTPException):
            pass  # the next poll reads the Task again anyway
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))


def _key(task: Body) -> Key:
    meta = task.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def _version(task: Body) -> str:
    return str((task.get("metadata") or {}).get("resourceVersion", ""))


def _state(task: Body) -> str:
    return str((task.get("status") or {}).get("state") or "pending")
