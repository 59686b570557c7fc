"""`task-action-detail SI INDEX`: every command of one row of a Task (and of the rows under it),
as DTK showed it: RUN, STATUS (the return code), STDOUT and STDERR, then the row's errors."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from dtk_api import resources as r
from dtk_api.task_status import CommandResult, Step, StepError, TaskStatus
from dtk_api.task_wire import from_status, step_to_raw
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import CommandError
from kubectl_dtk.api.objects import latest_task, require
from kubectl_dtk.api.shards import with_all_rows
from kubectl_dtk.commands.common import Flags, add_command, single_namespace
from kubectl_dtk.commands.tasks.lookup import task_of
from kubectl_dtk.views.output import print_object, wants_object
from kubectl_dtk.views.printable import printable

DETAIL_RULE = "=" * 60


def register(commands: Any, common_flags: Flags) -> None:
    detail = add_command(commands, common_flags, "task-action-detail", run_action_detail,
                         "every command of one row of a Task, with its output")
    detail.add_argument("instance", metavar="SI", help="the service instance")
    detail.add_argument("index", metavar="INDEX", help="the row's index in task-status (7.1; a stage: 7)")
    detail.add_argument("--task", metavar="T", help="this Task (its name or the ID list-tasks shows) instead of "
                        "the latest one")


def run_action_detail(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    if args.task:
        require(ctx, r.INSTANCE_PLURAL, args.instance)
        task = task_of(ctx, args.instance, args.task)
    else:
        task = latest_task(ctx, args.instance)
    task = with_all_rows(ctx.client, dict(task))
    steps = detail_steps(from_status(task.get("status") or {}), args.index)
    if steps is None:
        raise CommandError(f"Task action with identifier '{args.index}' does not exist for this service instance "
                           f"(task {task['metadata']['name']})", exit_codes.NOT_FOUND)
    if wants_object(ctx):
        print_object(ctx, [step_to_raw(s) for s in steps if s.results or s.errors])
        return exit_codes.OK
    ctx.out.write(render_action_detail(steps) or nothing_ran_text(steps[0]))
    return exit_codes.OK


def detail_steps(status: TaskStatus, index: str) -> list[Step] | None:
    """The row `index` and its descendants (a stage shows all its nodes' commands); None if no
    such row."""
    if not any(step.index == index for step in status.steps):
        return None
    return [step for step in status.steps if step.index == index or step.index.startswith(index + ".")]


def render_action_detail(steps: Sequence[Step]) -> str:
    """DTK's task-action-detail: per command a rule, RUN, STATUS (the return code), STDOUT and
    STDERR; outputs go on their own lines, indented, so multi-line text stays readable. A row's
    errors (a timeout, a failure before any command) follow its commands."""
    blocks = [_command_block(step, result) for step in steps for result in step.results]
    blocks += [_error_block(step) for step in steps if step.errors]
    return "".join(blocks)


def _where(step: Step) -> str:
    return f"NODE: {step.node or '-'} (row {step.index} {step.name})\n"


def _command_block(step: Step, result: CommandResult) -> str:
    lines = [DETAIL_RULE + "\n", f"RUN: {printable(result.run)} ({result.type})\n", _where(step),
             f"STATUS: {_return_code(step, result)}\n"]
    if result.truncated:
        lines.append("NOTE: output cut: only the last 4 KiB of STDOUT and of STDERR are kept\n")
    lines += ["STDOUT:\n", _indented(printable(result.stdout)), "STDERR:\n", _indented(printable(result.stderr))]
    return "".join(lines)


def _return_code(step: Step, result: CommandResult) -> str:
    if result.return_code is not None:
        return str(result.return_code)
    return "none yet (running)" if step.status == "executing" else "none (the command was killed)"


def _error_block(step: Step) -> str:
    return f"{DETAIL_RULE}\n{_where(step)}ERRORS:\n" + "".join(_error_lines(error) for error in step.errors)


def _error_lines(error: StepError) -> str:
    """`[USER ERROR] message` as in task-status's legend; continuation lines indented under it."""
    first, *rest = printable(error.message).rstrip().split("\n")
    return "".join([f"  [{error.type.upper()} ERROR] {first}\n", *(f"    {line}\n" for line in rest)])


def _indented(text: str) -> str:
    if not text:
        return ""
    return "".join(f"  {line}\n" if line else "\n" for line in text.rstrip("\n").split("\n"))


def nothing_ran_text(step: Step) -> str:
    """Why a row shows no commands: it has not started, none has finished yet, or it has none
    (node creation, or a row skipped by a guard)."""
    row = f"row {step.index} ({step.name}{' on ' + step.node if step.node else ''})"
    if not step.status:
        return f"{row.capitalize()} has not run yet\n"
    if step.status == "executing":
        return f"No command of {row} has finished yet\n"
    return f"{row.capitalize()} ran no commands ({step.status})\n"
