"""What the command families share: registering a command with kubectl's flags, and flag checks."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import CommandError

Flags = Callable[..., argparse.ArgumentParser]
Run = Callable[[Context, argparse.Namespace], int]


def add_command(commands: Any, common_flags: Flags, name: str, run: Run, text: str, *,
                streams: bool = False) -> argparse.ArgumentParser:
    """A subcommand with the kubectl flags; `text` is its one-line help (and, capitalised, its description)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, parents=[common_flags(streams=streams)], help=text, description=text[0].upper() + text[1:] + ".")
    parser.set_defaults(run=run)
    return parser


def single_namespace(ctx: Context, command: str) -> None:
    """kubectl refuses to fetch a named object across namespaces; so do the commands that take one."""
    if ctx.all_namespaces:
        raise CommandError(f"{command} works on one service instance: name its namespace with -n, not -A",
                           exit_codes.USAGE_OR_API)


def check_stream_output(ctx: Context, *, streaming: bool) -> None:
    """`-o jsonl` is the stream's format; json and yaml describe one object and cannot carry one."""
    if ctx.output == "jsonl" and not streaming:
        raise CommandError("-o jsonl is the format of a stream: add -s", exit_codes.USAGE_OR_API)
    if streaming and ctx.output in ("json", "yaml"):
        raise CommandError(f"-o {ctx.output} cannot describe a stream: use -o jsonl with -s",
                           exit_codes.USAGE_OR_API)
