"""`task-status SI`: the latest (or --task) Task of an instance, in DTK's three modes.

snapshot (default): the table now. refresh (`--wait`, DTK's spelling, or `-m refresh`): followed
until it ends. stream (`-m stream`): stage by stage, replayed from stage 1, then live.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import CommandError
from kubectl_dtk.api.objects import latest_task_of, require, stall_note
from kubectl_dtk.api.shards import with_all_rows
from kubectl_dtk.commands.common import single_namespace
from kubectl_dtk.commands.tasks.lookup import task_of

MODES = ("snapshot", "refresh", "stream")


def register(commands: Any, common_flags: Callable[..., argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "task-status", parents=[common_flags(streams=True)],
        help="a Task of a service instance: table, live view or stream",
        description="The latest Task of a service instance (or --task T). Exit codes: 0 succeeded or still "
                    "running (snapshot), 1 failed or cancelled, 2 usage or API error, 3 --timeout, 4 not found.")
    parser.add_argument("instance", metavar="SI", help="the service instance")
    parser.add_argument("-m", "--mode", choices=MODES,
                        help="snapshot (default): the table now; refresh: redrawn until the Task ends "
                             "(progress lines off a terminal); stream: DTK's stage-by-stage text")
    parser.add_argument("--wait", action="store_true", help="the same as -m refresh")
    parser.add_argument("-s", "--summarize", action="store_true",
                        help="fold node-group members into their group row (snapshot and refresh)")
    parser.add_argument("--task", metavar="T", help="this Task of the instance instead of the latest one: its "
                        "name, or the ID list-tasks shows")
    parser.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                        help="refresh and stream: give up after this long (exit code 3)")
    parser.set_defaults(run=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"a positive number of seconds, not {text!r}")
    return value


def run(ctx: Context, args: argparse.Namespace) -> int:
    mode = chosen_mode(args, output=ctx.output)  # usage errors before any API call
    single_namespace(ctx, args.command)
    instance = require(ctx, r.INSTANCE_PLURAL, args.instance)
    task = dict(task_of(ctx, args.instance, args.task)) if args.task else latest_task_of(ctx, instance)
    task = with_all_rows(ctx.client, task) if mode != "stream" else task  # the stream follows it itself
    note = stall_note(instance, shown_task=str(task["metadata"]["name"]))
    if note:  # a Task can look fine while its instance is stuck (a spec the operator refuses)
        ctx.warn(note)
    # Each mode imports only what it draws with (and completion, which reads this module's flags, none).
    if mode == "stream":
        from kubectl_dtk.follow.stream import stream_task

        return stream_task(ctx, task["metadata"]["name"], timeout=args.timeout, jsonl=ctx.output == "jsonl")
    from kubectl_dtk.follow.refresh import refresh_task, show_task, snapshot_code

    if mode == "refresh":
        return refresh_task(ctx, task, timeout=args.timeout, summarize=args.summarize)
    show_task(ctx, task, summarize=args.summarize)
    return snapshot_code(task)


def chosen_mode(args: argparse.Namespace, *, output: str) -> str:
    """The mode, or a usage error (exit 2) for flags that would silently do nothing."""
    if args.wait and args.mode not in (None, "refresh"):
        raise _usage(f"--wait means -m refresh; it does not go with -m {args.mode}")
    mode: str = "refresh" if args.wait else args.mode or "snapshot"
    if mode == "stream" and args.summarize:
        raise _usage("-s/--summarize folds table rows; -m stream has no table")
    if mode == "stream" and output in ("json", "yaml"):
        raise _usage("-m stream prints text, or JSON lines with -o jsonl")
    if mode != "stream" and output == "jsonl":
        raise _usage("-o jsonl is for -m stream")
    if mode == "snapshot" and args.timeout is not None:
        raise _usage("--timeout is for waiting modes: add --wait or -m stream")
    return mode


def _usage(message: str) -> CommandError:
    return CommandError(message, exit_codes.USAGE_OR_API)
