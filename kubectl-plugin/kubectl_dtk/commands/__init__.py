"""The commands of `kubectl dtk`, a package per family; each module named here has
`register(subparsers, common_flags)`.

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
    "list-assemblies": "instances.listing", "ls": "instances.listing", "list-nodes": "instances.nodes",
    "deploy": "instances.deploy", "stage": "instances.deploy",
    "start": "instances.lifecycle", "stop": "instances.lifecycle", "delete-and-destroy": "instances.lifecycle",
    "task-status": "tasks.status",
    "list-tasks": "tasks.manage", "converge": "tasks.manage", "exec": "tasks.manage", "cancel-task": "tasks.manage",
    "task-action-detail": "tasks.action_detail",
    "describe-task": "describe.task",
    "list-targets": "targets.listing",
    "version": "version.versions",
}


def modules_for(command: str | None) -> list[ModuleType]:
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
