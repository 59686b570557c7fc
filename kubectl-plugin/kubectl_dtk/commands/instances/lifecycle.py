"""`delete-and-destroy`: confirm, delete the ServiceInstance, wait until the operator released it.

The operator's finalizer holds the object until a running Task is cancelled and (deletionPolicy
Delete) every node is confirmed terminated, so "gone" means the machines are gone too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.client import ApiError
from kubectl_dtk.context import CommandError, Context
from kubectl_dtk.instance_support import poll_until

# Seconds to wait for the instance to be released when --timeout is not given: terminating EC2
# instances and seeing them `terminated` usually takes one to three minutes.
DELETE_TIMEOUT_SECONDS = 300.0
YES = ("y", "yes")


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
