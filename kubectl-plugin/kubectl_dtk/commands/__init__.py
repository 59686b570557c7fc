"""One module per command group; each has `register(subparsers, common_flags)`.

A module registers its subcommands with `parser.set_defaults(run=function)`, where
`function(ctx: Context, args: argparse.Namespace) -> int` returns the exit code.
"""

from __future__ import annotations

from types import ModuleType

from kubectl_dtk.commands import describe, instances, task_status, tasks

COMMAND_MODULES: tuple[ModuleType, ...] = (instances, tasks, task_status, describe)
