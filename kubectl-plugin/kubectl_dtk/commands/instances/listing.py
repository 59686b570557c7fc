"""Assemblies and ServiceInstances: list-assemblies, deploy, stage, ls, list-nodes, start, stop,
delete-and-destroy (SPEC section 8). Fetch here, decide in instance_*.py, draw in views/table.py."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk import instance_creation as creation
from kubectl_dtk import instance_removal as rm
from kubectl_dtk.context import Context
from kubectl_dtk.instance_rows import (
    ASSEMBLY_HEADERS,
    INSTANCE_HEADERS,
    NODE_HEADERS,
    assembly_row,
    instance_row,
    listing_order,
    node_rows,
    with_namespaces,
)
from kubectl_dtk.instance_support import no_op, print_object, single_namespace, wants_object
from kubectl_dtk.objects import as_list, emit, require, stall_note
from kubectl_dtk.shards import with_all_nodes

Flags = Callable[..., argparse.ArgumentParser]
SI_HELP = "the service instance's name (as ls shows it)"
POWER_NOTES = {"running": "the nodes start through a new task",
               "stopped": "a running task is cancelled, then the nodes stop"}


def register(commands: Any, common_flags: Flags) -> None:
    def add(name: str, run: Callable[[Context, argparse.Namespace], int], text: str, *,
            streams: bool = False) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(
            name, parents=[common_flags(streams=streams)], help=text, description=text[0].upper() + text[1:] + ".")
        parser.set_defaults(run=run)
        return parser

    add("list-assemblies", run_list_assemblies, "assemblies, optionally of one module").add_argument(
        "module", metavar="MODULE", nargs="?", help="only this service module (spec.module, e.g. bigtop:spark)")
    add("ls", run_ls, "service instances (-A: in every namespace)")
    add("list-nodes", run_list_nodes, "the nodes of a service instance").add_argument("instance", metavar="SI",
                                                                                      help=SI_HELP)
    creation.add_arguments(add("deploy", creation.run_deploy, "create a service instance and run its create task",
                               streams=True), streaming=True)
    creation.add_arguments(add("stage", creation.run_stage, "create a service instance without launching it"))
    for power in ("start", "stop"):
        add(power, run_power, f"set spec.power to {'running' if power == 'start' else 'stopped'}").add_argument(
            "instance", metavar="SI", help=SI_HELP)
    delete = add("delete-and-destroy", run_delete, "delete a service instance and terminate its nodes")
    delete.add_argument("instance", metavar="SI", help=SI_HELP)
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--timeout", type=float, help=f"seconds to wait until it is gone (default "
                        f"{rm.DELETE_TIMEOUT_SECONDS:g}; exit 3)")
    delete.add_argument("--no-wait", action="store_true", help="return once the deletion is requested")


def _listed(ctx: Context, plural: str) -> list[dict[str, Any]]:
    items = ctx.client.list(plural, all_namespaces=ctx.all_namespaces).get("items", [])
    return sorted(items, key=listing_order)


def _emit_listing(ctx: Context, headers: tuple[str, ...], rows: list[tuple[str, ...]], items: list[Any]) -> int:
    if ctx.all_namespaces:
        headers, rows = with_namespaces(headers, rows, items)
    emit(ctx, headers=headers, rows=rows, objects=as_list(items))
    return exit_codes.OK


def run_list_assemblies(ctx: Context, args: argparse.Namespace) -> int:
    items = [a for a in _listed(ctx, r.ASSEMBLY_PLURAL)
             if args.module is None or (a.get("spec") or {}).get("module") == args.module]
    return _emit_listing(ctx, ASSEMBLY_HEADERS, [assembly_row(a) for a in items], items)


def run_ls(ctx: Context, args: argparse.Namespace) -> int:
    items = _listed(ctx, r.INSTANCE_PLURAL)
    _emit_listing(ctx, INSTANCE_HEADERS, [instance_row(i) for i in items], items)
    if ctx.output == "table":  # the table has no room for why; JSON and YAML carry the conditions
        for item in items:
            note = stall_note(item, qualified=ctx.all_namespaces)
            if note:
                ctx.warn(note)
    return exit_codes.OK


def run_list_nodes(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    instance = with_all_nodes(ctx.client, require(ctx, r.INSTANCE_PLURAL, args.instance))
    emit(ctx, headers=NODE_HEADERS, rows=node_rows(instance), objects=(instance.get("status") or {}).get("nodes", []))
    return exit_codes.OK


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
    if not rm.confirmed(ctx, args.instance, assume_yes=args.yes):
        return no_op(ctx, "Nothing deleted.", as_list([]))
    deleted = ctx.client.delete(r.INSTANCE_PLURAL, args.instance)
    say = ctx.warn if wants_object(ctx) else ctx.say  # with -o json|yaml stdout holds the object alone
    say(f"service instance {args.instance} deletion requested: {rm.fate_of_nodes(instance)}")
    if not args.no_wait:
        ctx.out.flush()
        rm.wait_until_gone(ctx, args.instance, timeout=args.timeout)
        say(f"service instance {args.instance} deleted")
    if wants_object(ctx):
        print_object(ctx, deleted)
    return exit_codes.OK
