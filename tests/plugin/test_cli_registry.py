"""Only the running command's module is imported; the map from command to module must be whole."""

from __future__ import annotations

import argparse

from kubectl_dtk.cli import build_parser
from kubectl_dtk.commands import COMMANDS


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(found[0].choices) if found else set()


def test_every_registered_command_is_in_the_map_and_registers_alone() -> None:
    everything = _commands(build_parser())
    assert everything == set(COMMANDS)
    for command in everything:
        assert command in _commands(build_parser(command))


def test_spec_commands_are_all_there() -> None:
    spec = {"list-assemblies", "deploy", "stage", "ls", "task-status", "list-tasks", "converge", "exec",
            "cancel-task", "task-action-detail", "list-nodes", "start", "stop", "delete-and-destroy", "describe-task"}
    assert spec <= set(COMMANDS)
