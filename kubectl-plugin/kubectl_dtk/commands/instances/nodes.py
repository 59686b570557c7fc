"""`list-nodes SI`: the nodes of a service instance, single nodes and group members, in the
operator's order (a big instance's members come from its NodeShards)."""

from __future__ import annotations

import argparse
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.objects import require
from kubectl_dtk.api.shards import with_all_nodes
from kubectl_dtk.commands.common import Flags, add_command, single_namespace
from kubectl_dtk.commands.instances.rows import NODE_HEADERS, node_rows
from kubectl_dtk.views.output import emit


def register(commands: Any, common_flags: Flags) -> None:
    add_command(commands, common_flags, "list-nodes", run_list_nodes, "the nodes of a service instance").add_argument(
        "instance", metavar="SI", help="the service instance's name (as ls shows it)")


def run_list_nodes(ctx: Context, args: argparse.Namespace) -> int:
    single_namespace(ctx, args.command)
    instance = with_all_nodes(ctx.client, require(ctx, r.INSTANCE_PLURAL, args.instance))
    emit(ctx, headers=NODE_HEADERS, rows=node_rows(instance), objects=(instance.get("status") or {}).get("nodes", []))
    return exit_codes.OK
