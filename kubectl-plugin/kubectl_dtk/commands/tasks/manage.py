"""Tasks of a service instance: list-tasks, converge, exec, cancel-task (SPEC section 8). Fetch
here, decide in ops.py, draw in rows.py and views/box.py."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.objects import require, short_id, stall_note, tasks_of
from kubectl_dtk.commands.common import Flags, Run, add_command, check_stream_output, single_namespace
from kubectl_dtk.commands.tasks import ops
from kubectl_dtk.commands.tasks.lookup import task_of
from kubectl_dtk.commands.tasks.rows import TASK_HEADERS, task_row
from kubectl_dtk.views.output import as_list, emit, no_op, print_object, wants_object


def register(commands: Any, common_flags: Flags) -> None:
    def add(name: str, run: Run, text: str, *, streams: bool = False) -> argparse.ArgumentParser:
        parser = add_command(commands, common_flags, name, run, text, streams=streams)
        parser.add_argument("instance", metavar="SI", help="the service instance")
        return parser

    add("list-tasks", run_list_tasks, "the Tasks of a service instance, oldest first")
    _creating(add("converge", run_converge, "run the create workflow again", streams=True))
    execute = _creating(add("exec", run_exec, "run a workflow of the instance's assembly", streams=True))
    execute.add_argument("workflow", metavar="WORKFLOW", help="the workflow's name in the instance's assembly")
    execute.add_argument("params", metavar="k=v,...", nargs="*", help="the workflow's params")
    cancel = add("cancel-task", run_cancel, "cancel the given Task, or the running one")
    cancel.add_argument("task", metavar="TASK", nargs="?", help="its name or the ID list-tasks shows")


def _creating(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("-s", "--stream-results", action="store_true", help="stream the Task until it ends")
    parser.add_argument("--timeout", type=float, help="seconds to stream before giving up (exit 3)")
    # No -m: in this plugin -m is task-status's --mode (DTK's `-m stream`); one letter, one meaning.
    parser.add_argument("--message", default="", help="a note kept on the Task (DTK's commit message), shown "
                        "by list-tasks")
    return parser


def run_list_tasks(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    instance = require(ctx, r.INSTANCE_PLURAL, args.instance)
    tasks = tasks_of(ctx, args.instance)
    emit(ctx, headers=TASK_HEADERS, rows=[task_row(t) for t in tasks], objects=as_list(tasks))
    note = stall_note(instance, shown_task=str(tasks[-1]["metadata"]["name"]) if tasks else "")
    if note and ctx.output == "table":  # `0 rows in set` alone would not say that none will come
        ctx.warn(note)
    return exit_codes.OK


def run_converge(ctx: Context, args: argparse.Namespace) -> int:
    return _run_new_task(ctx, args, workflow=r.CREATE_WORKFLOW, params={})


def run_exec(ctx: Context, args: argparse.Namespace) -> int:
    params = ops.parse_params(args.params)  # before any request: a typo costs nothing
    return _run_new_task(ctx, args, workflow=args.workflow, params=params)


def _run_new_task(ctx: Context, args: argparse.Namespace, *, workflow: str, params: Mapping[str, str]) -> int:
    single_namespace(ctx, args.command)
    check_stream_output(ctx, streaming=args.stream_results)
    created = _create_task(ctx, args.instance, workflow=workflow, params=params, message=args.message)
    name = str(created["metadata"]["name"])
    if wants_object(ctx):
        print_object(ctx, created)
        return exit_codes.OK
    # task_id is the ID list-tasks shows (as DTK's was); every command takes it, or the name.
    (ctx.err if ctx.output == "jsonl" else ctx.out).write(f"task_id: {short_id(created)}\ntask_name: {name}\n")
    if not args.stream_results:
        return exit_codes.OK
    ctx.out.flush()
    from kubectl_dtk.follow.stream import stream_task  # only with -s: list-tasks and cancel-task stay light

    return stream_task(ctx, name, timeout=args.timeout, jsonl=ctx.output == "jsonl")


def _create_task(ctx: Context, instance_name: str, *, workflow: str, params: Mapping[str, str],
                 message: str) -> dict[str, Any]:
    """After checking what would make it fail at once: the instance, its Assembly, the workflow."""
    instance = require(ctx, r.INSTANCE_PLURAL, instance_name)
    assembly_name = str(((instance.get("spec") or {}).get("assemblyRef") or {}).get("name", ""))
    ops.check_workflow(require(ctx, r.ASSEMBLY_PLURAL, assembly_name), workflow)
    ahead = ops.running_task(tasks_of(ctx, instance_name))
    body = ops.task_body(instance_name, workflow=workflow, params=params, message=message)
    created = ctx.client.create(r.TASK_PLURAL, body)
    if ahead is not None:  # a stream would stay silent until then: say why
        ctx.warn(f"task {created['metadata']['name']} waits for task {ahead['metadata']['name']} "
                 f"({ops.state_of(ahead)}) to finish: the tasks of one instance run one at a time")
    return created


def run_cancel(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    require(ctx, r.INSTANCE_PLURAL, args.instance)
    task = task_of(ctx, args.instance, args.task) if args.task else ops.running_task(tasks_of(ctx, args.instance))
    if task is None:  # the wanted end state (nothing running) holds: not an error, as in DTK
        return no_op(ctx, "No running tasks found", as_list([]))
    name, state = str(task["metadata"]["name"]), ops.state_of(task)
    if ops.is_finished(task):
        return no_op(ctx, f"task {name} has already ended ({state}): nothing to cancel", task)
    patched = ctx.client.patch(r.TASK_PLURAL, name, {"spec": {"cancel": True}})
    if wants_object(ctx):
        print_object(ctx, patched)
    else:
        ctx.say(f"task {name} ({state}): cancel requested; the operator kills its running commands")
    return exit_codes.OK
