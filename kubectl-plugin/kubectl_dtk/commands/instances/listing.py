"""Listing: list-assemblies and ls (SPEC section 8). Fetch here, decide in rows.py, draw in
views/box.py."""

from __future__ import annotations

import argparse
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.objects import stall_note
from kubectl_dtk.commands.common import Flags, add_command
from kubectl_dtk.commands.instances.rows import (
    ASSEMBLY_HEADERS,
    INSTANCE_HEADERS,
    assembly_row,
    instance_row,
    listing_order,
    with_namespaces,
)
from kubectl_dtk.views.output import as_list, emit


def register(commands: Any, common_flags: Flags) -> None:
    add_command(commands, common_flags, "list-assemblies", run_list_assemblies,
                "assemblies, optionally of one module").add_argument(
        "module", metavar="MODULE", nargs="?", help="only this service module (spec.module, e.g. bigtop:spark)")
    add_command(commands, common_flags, "ls", run_ls, "service instances (-A: in every namespace)")


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
