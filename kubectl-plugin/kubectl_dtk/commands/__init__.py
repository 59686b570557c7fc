"""One module per command group; each has `register(subparsers, common_flags)`.

A module registers its subcommands with `parser.set_defaults(run=function)`, where
`function(ctx: Context, args: argparse.Namespace) -> int` returns the exit code.

Only the module of the command being run is imported (start-up time is a feature of a kubectl
plugin); `--help` and usage errors import them all.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# command -> the module (in this package) that registers it; `--help` lists the modules' commands
# in this order: a user's path from an assembly to a Task's detail
COMMANDS: dict[str, str] = {
    "list-assemblies": "instances", "deploy": "instances", "stage": "instances", "ls": "instances",
    "list-nodes": "instances", "start": "instances", "stop": "instances", "delete-and-destroy": "instances",
    "task-status": "task_status",
    "list-tasks": "tasks", "converge": "tasks", "exec": "tasks", "cancel-task": "tasks",
    "task-action-detail": "tasks",
    "describe-task": "describe",
}


def modules_for(command: str | None) -> list[ModuleType]:
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
