"""`task-status SI`: the latest (or --task) Task of an instance as DTK's table. The refresh and
stream modes are being built on top of this (issue 3)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from dtk_api import resources as r
from dtk_api.task_wire import from_status
from kubectl_dtk.context import Context
from kubectl_dtk.objects import latest_task, require
from kubectl_dtk.streaming import outcome_code, stream_task
from kubectl_dtk.views.table import render_task_table


def register(commands: Any, common_flags: Callable[..., argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("task-status", parents=[common_flags(streams=True)],
                                 help="a Task of a service instance: table, live view or stream")
    parser.add_argument("instance", metavar="SI")
    parser.add_argument("-m", "--mode", choices=["snapshot", "refresh", "stream"], default="snapshot")
    parser.add_argument("--task", help="this Task instead of the latest one")
    parser.add_argument("--timeout", type=float, help="seconds to wait in refresh and stream modes (exit 3)")
    parser.set_defaults(run=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    task = require(ctx, r.TASK_PLURAL, args.task) if args.task else latest_task(ctx, args.instance)
    if args.mode == "stream":
        return stream_task(ctx, task["metadata"]["name"], timeout=args.timeout, jsonl=ctx.output == "jsonl")
    status = from_status(task.get("status") or {})
    ctx.say(render_task_table(status, color=ctx.color, no_headers=ctx.no_headers).rstrip("\n"))
    return outcome_code(status.state) if status.is_terminal else 0
