"""`list-targets`: the Targets of the cluster, which is the default, which are Ready, and which the
namespace may use (its instances may name only those, and get the default among them)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from dtk_api.targets import allows, is_default, is_ready, name_of
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError
from kubectl_dtk.commands.common import Flags, add_command
from kubectl_dtk.views.output import as_list, emit

TARGET_HEADERS = ("NAME", "PROVIDER", "REGION", "DEFAULT", "READY", "INSTANCES", "ALLOWED HERE")


def register(commands: Any, common_flags: Flags) -> None:
    add_command(commands, common_flags, "list-targets", run,
                "the Targets instances can run on, and which this namespace may use")


def run(ctx: Context, args: argparse.Namespace) -> int:
    items = sorted(ctx.client.list(r.TARGET_PLURAL, all_namespaces=True).get("items", []), key=name_of)
    labels = _namespace_labels(ctx)
    emit(ctx, headers=TARGET_HEADERS, rows=[target_row(t, ctx.client.namespace, labels) for t in items],
         objects=as_list(items))
    return exit_codes.OK


def _namespace_labels(ctx: Context) -> Mapping[str, str] | None:
    """The namespace's labels (a Target may allow namespaces by selector); None when they cannot be
    read (a user may not `get namespaces`): ALLOWED HERE then says `?` where a selector decides."""
    try:
        return dict((ctx.client.read(f"/api/v1/namespaces/{ctx.client.namespace}").get("metadata") or {})
                    .get("labels") or {})
    except ApiError:
        return None


def target_row(target: Mapping[str, Any], namespace: str, labels: Mapping[str, str] | None) -> tuple[str, ...]:
    spec, status = target.get("spec") or {}, target.get("status") or {}
    return (name_of(target), str(spec.get("provider", "")), str((spec.get("ec2") or {}).get("region", "")),
            "yes" if is_default(target) else "", "True" if is_ready(target) else "False",
            str(status.get("instances", 0)), allowed_here(target, namespace, labels))


def allowed_here(target: Mapping[str, Any], namespace: str, labels: Mapping[str, str] | None) -> str:
    if labels is not None:
        return "yes" if allows(target, namespace, labels) else "no"
    listed = allows(target, namespace, {})  # without labels: what the list (or `{}`) grants alone
    selector = ((target.get("spec") or {}).get("allowedNamespaces") or {}).get("selector")
    return "yes" if listed else ("?" if selector is not None else "no")
