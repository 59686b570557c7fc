"""How a command prints what it read or changed: a DTK box table, or the objects as JSON or YAML."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.views.box import render_box_table


def as_list(items: Sequence[Any]) -> dict[str, Any]:
    """`-o json|yaml` of a listing: kubectl's List, so the same jq/yq filters work on both."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def emit(ctx: Context, *, headers: Sequence[str], rows: Sequence[Sequence[str]], objects: Any) -> None:
    """A DTK box table, or the objects themselves as JSON or YAML."""
    if ctx.output == "json":
        ctx.say(json.dumps(objects, indent=2, sort_keys=False))
    elif ctx.output == "yaml":
        import yaml  # only when asked: the table path stays light

        ctx.say(yaml.safe_dump(objects, sort_keys=False).rstrip("\n"))
    else:
        ctx.say(render_box_table(headers, rows, no_headers=ctx.no_headers).rstrip("\n"))


def wants_object(ctx: Context) -> bool:
    """`-o json|yaml`: the command prints the object it made or changed instead of a sentence."""
    return ctx.output in ("json", "yaml")


def print_object(ctx: Context, body: object) -> None:
    emit(ctx, headers=(), rows=(), objects=body)


def no_op(ctx: Context, sentence: str, body: object) -> int:
    """Nothing to do: the sentence; with -o json|yaml, the object as it stands on stdout (an empty
    List when there is none, as kubectl answers a query that matched nothing), the sentence on
    stderr. A script asking for JSON always gets JSON."""
    if wants_object(ctx):
        print_object(ctx, body)
        ctx.warn(sentence)
    else:
        ctx.say(sentence)
    return exit_codes.OK
