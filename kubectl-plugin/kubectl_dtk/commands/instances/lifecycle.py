"""A service instance's power and end: start, stop, delete-and-destroy (SPEC section 8).

`delete-and-destroy` confirms, deletes the ServiceInstance and waits until the operator released
it. The operator's finalizer holds the object until a running Task is cancelled and
(deletionPolicy Delete) every node is confirmed terminated, so "gone" means the machines are gone too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError, CommandError
from kubectl_dtk.api.objects import require
from kubectl_dtk.api.shards import with_all_nodes
from kubectl_dtk.commands.common import Flags, add_command, single_namespace
from kubectl_dtk.commands.instances.polling import poll_until
from kubectl_dtk.views.output import as_list, no_op, print_object, wants_object

# Seconds to wait for the instance to be released when --timeout is not given: terminating EC2
# instances and seeing them `terminated` usually takes one to three minutes.
DELETE_TIMEOUT_SECONDS = 300.0
YES = ("y", "yes")
SI_HELP = "the service instance's name (as ls shows it)"
POWER_NOTES = {"running": "the nodes start through a new task",
               "stopped": "a running task is cancelled, then the nodes stop"}


def register(commands: Any, common_flags: Flags) -> None:
    for power in ("start", "stop"):
        add_command(commands, common_flags, power, run_power,
                    f"set spec.power to {'running' if power == 'start' else 'stopped'}").add_argument(
            "instance", metavar="SI", help=SI_HELP)
    delete = add_command(commands, common_flags, "delete-and-destroy", run_delete,
                         "delete a service instance and terminate its nodes")
    delete.add_argument("instance", metavar="SI", help=SI_HELP)
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--timeout", type=float, help=f"seconds to wait until it is gone (default "
                        f"{DELETE_TIMEOUT_SECONDS:g}; exit 3)")
    delete.add_argument("--no-wait", action="store_true", help="return once the deletion is requested")


def run_power(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    wanted = "running" if args.command == "start" else "stopped"
    instance = require(ctx, r.INSTANCE_PLURAL, args.instance)
    if (instance.get("spec") or {}).get("power", "running") == wanted:
        return no_op(ctx, f"service instance {args.instance}: power is already {wanted}", instance)
    patched = ctx.client.patch(r.INSTANCE_PLURAL, args.instance, {"spec": {"power": wanted}})
    if wants_object(ctx):
        print_object(ctx, patched)
    else:
        ctx.say(f"service instance {args.instance}: power set to {wanted} ({POWER_NOTES[wanted]})")
    return exit_codes.OK


def run_delete(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    instance = with_all_nodes(ctx.client, require(ctx, r.INSTANCE_PLURAL, args.instance))
    if not confirmed(ctx, args.instance, assume_yes=args.yes):
        return no_op(ctx, "Nothing deleted.", as_list([]))
    deleted = ctx.client.delete(r.INSTANCE_PLURAL, args.instance)
    say = ctx.warn if wants_object(ctx) else ctx.say  # with -o json|yaml stdout holds the object alone
    say(f"service instance {args.instance} deletion requested: {fate_of_nodes(instance)}")
    if not args.no_wait:
        ctx.out.flush()
        wait_until_gone(ctx, args.instance, timeout=args.timeout)
        say(f"service instance {args.instance} deleted")
    if wants_object(ctx):
        print_object(ctx, deleted)
    return exit_codes.OK


def confirmed(ctx: Context, name: str, *, assume_yes: bool, stdin: TextIO | None = None) -> bool:
    """DTK's question on a terminal; without one, nobody can answer, so refuse (exit 2)."""
    if assume_yes:
        return True
    answers = stdin or sys.stdin
    if not answers.isatty():
        raise CommandError(f"refusing to delete service instance {name} without confirmation: stdin is not "
                           "a terminal; pass -y to confirm", exit_codes.USAGE_OR_API)
    ctx.err.write(f"Are you sure you want to delete and destroy service '{name}' and its nodes? (yes|no) ")
    ctx.err.flush()
    return answers.readline().strip().lower() in YES


def fate_of_nodes(instance: Mapping[str, Any]) -> str:
    """What deleting does to the machines, from the spec's deletionPolicy and the created nodes."""
    spec, status = instance.get("spec") or {}, instance.get("status") or {}
    created = [n for n in status.get("nodes") or [] if isinstance(n, Mapping) and n.get("instanceId")]
    count = f"{len(created)} node{'' if len(created) == 1 else 's'}"
    if not created:
        return "it has no nodes yet"
    if spec.get("deletionPolicy") == "Retain":
        return f"its {count} are left running (deletionPolicy Retain)"
    return f"its {count} are terminated (deletionPolicy Delete)"


def is_gone(ctx: Context, name: str) -> bool | None:
    """True once the API says 404; None (keep waiting) while the finalizer still holds it."""
    try:
        ctx.client.get(r.INSTANCE_PLURAL, name)
    except ApiError as error:
        if error.not_found:
            return True
        raise
    return None


def wait_until_gone(ctx: Context, name: str, *, timeout: float | None) -> None:
    limit = DELETE_TIMEOUT_SECONDS if timeout is None else timeout
    if poll_until(lambda: is_gone(ctx, name), timeout=limit) is None:
        raise CommandError(f"service instance {name} is still being deleted after {limit:g} s: the operator "
                           "releases it once its task is cancelled and its nodes are gone (is the operator "
                           f"running? see `kubectl describe si {name}`)", exit_codes.TIMEOUT)
