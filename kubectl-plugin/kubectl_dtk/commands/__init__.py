"""One module per command group; each has `register(subparsers, common_flags)`.

A module registers its subcommands with `parser.set_defaults(run=function)`, where
`function(ctx: Context, args: argparse.Namespace) -> int` returns the exit code.

Only the module of the command being run is imported (start-up time is a feature of a kubectl
plugin); `--help` and usage errors import them all.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# command -> the module (in this package) that registers it
COMMANDS: dict[str, str] = {
    "task-status": "task_status",
    "describe-task": "describe",
    "list-tasks": "tasks", "converge": "tasks", "exec": "tasks", "cancel-task": "tasks",
    "task-action-detail": "tasks",
    "list-assemblies": "instances", "deploy": "instances", "stage": "instances", "ls": "instances",
    "list-nodes": "instances", "start": "instances", "stop": "instances", "delete-and-destroy": "instances",
}


def modules_for(command: str | None) -> list[ModuleType]:
    names = [COMMANDS[command]] if command in COMMANDS else sorted(set(COMMANDS.values()))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
