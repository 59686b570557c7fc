"""`deploy` and `stage`: create the ServiceInstance, print DTK's answer, and with `deploy -s`
stream the Task the operator starts for it (its exit code is the Task's outcome). What to create
and what to answer are decided in deploy_spec.py."""

from __future__ import annotations

import argparse
import time
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.commands.common import Flags, add_command, check_stream_output, single_namespace
from kubectl_dtk.commands.instances import deploy_spec as d
from kubectl_dtk.views.output import print_object, wants_object


def register(commands: Any, common_flags: Flags) -> None:
    add_arguments(add_command(commands, common_flags, "deploy", run_deploy,
                              "create a service instance and run its create task", streams=True), streaming=True)
    add_arguments(add_command(commands, common_flags, "stage", run_stage,
                              "create a service instance without launching it"))


def add_arguments(parser: argparse.ArgumentParser, *, streaming: bool = False) -> None:
    parser.add_argument("assembly", metavar="ASSEMBLY",
                        help="the Assembly: its name, or the ID or name that list-assemblies or ls shows")
    parser.add_argument("name", metavar="NAME", help="name of the new service instance")
    parser.add_argument("--target", metavar="TARGET", default="", help="the Target the nodes run on (list-targets "
                        "shows them; default: the default Target of the namespace)")
    if streaming:
        parser.add_argument("-s", "--stream-results", action="store_true", help="stream the task until it ends")
        parser.add_argument("--timeout", type=float, help="seconds to wait for the task, and with -s for its end "
                            f"(exit 3; default without -s: {d.TASK_WAIT_SECONDS:g} for the task to appear)")


def _create(ctx: Context, args: argparse.Namespace, *, staged: bool) -> dict[str, Any]:
    single_namespace(ctx, args.command)
    assembly = d.resolve_assembly(ctx, args.assembly)
    body = d.instance_body(args.name, assembly["metadata"]["name"], target=args.target, staged=staged)
    return ctx.client.create(r.INSTANCE_PLURAL, body)


def run_deploy(ctx: Context, args: argparse.Namespace) -> int:
    check_stream_output(ctx, streaming=args.stream_results)
    started = time.monotonic()  # --timeout bounds the whole command: the task's arrival and its run
    instance = _create(ctx, args, staged=False)
    waited = d.TASK_WAIT_SECONDS if args.timeout is None else args.timeout
    task = d.wait_for_first_task(ctx, args.name, timeout=waited)
    answer = d.deploy_answer(instance, task)
    if wants_object(ctx):
        print_object(ctx, answer)
    else:  # with -o jsonl, stdout carries the stream's JSON lines only
        (ctx.err if ctx.output == "jsonl" else ctx.out).write(d.deploy_text(answer))
    if task is None:
        ctx.warn(f"the operator has not created a task for {args.name} within {waited:g} s (is it running?); "
                 f"see `kubectl dtk list-tasks {args.name}`")
        return exit_codes.TIMEOUT if args.stream_results else exit_codes.OK
    if not args.stream_results:
        return exit_codes.OK
    ctx.out.flush()
    # follow_task reads a zero timeout as "none": what is used up leaves a token millisecond, not forever
    left = None if args.timeout is None else max(0.001, args.timeout - (time.monotonic() - started))
    from kubectl_dtk.follow.stream import stream_task  # only with -s: a plain deploy stays light

    return stream_task(ctx, str(task["metadata"]["name"]), timeout=left, jsonl=ctx.output == "jsonl")


def run_stage(ctx: Context, args: argparse.Namespace) -> int:
    answer = d.stage_answer(_create(ctx, args, staged=True))
    if wants_object(ctx):
        print_object(ctx, answer)
    else:
        ctx.out.write(d.stage_text(answer))
    return exit_codes.OK
