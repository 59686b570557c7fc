"""The README shows every `kubectl dtk` command, and every example it shows is one the CLI accepts."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from kubectl_dtk.cli import build_parser
from kubectl_dtk.commands import COMMANDS
from kubectl_dtk.commands.tasks import ops as task_ops

README = Path(__file__).resolve().parents[2] / "README.md"


def _registered() -> set[str]:
    found = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(found[0].choices)


def _code_lines(text: str) -> list[str]:
    """Lines inside the README's fenced code blocks."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def _examples() -> list[list[str]]:
    """Every `kubectl dtk ...` command line of the README's code blocks, as the shell splits it."""
    return [shlex.split(line, comments=True)[2:] for line in _code_lines(README.read_text())
            if line.startswith("kubectl dtk ")]


def test_the_registry_and_the_parser_agree() -> None:
    assert _registered() == set(COMMANDS)


def test_every_command_has_an_example_in_the_readme_kubectl_dtk_section() -> None:
    text = README.read_text()
    section = text[text.index("\n## kubectl dtk\n"):]
    section = section[:section.index("\n## ", 1)]
    shown = set(re.findall(r"^kubectl dtk (\S+)", "\n".join(_code_lines(section)), re.MULTILINE))
    assert sorted(set(COMMANDS) - shown) == []


@pytest.mark.parametrize("argv", _examples(), ids=lambda argv: " ".join(argv))
def test_every_readme_example_is_accepted_by_the_cli(argv: list[str]) -> None:
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            args = build_parser(argv[0]).parse_args(argv)
        except SystemExit as refused:
            pytest.fail(f"`kubectl dtk {shlex.join(argv)}` is refused (exit {refused.code}): {errors.getvalue()}")
    if args.command == "exec":  # its params are checked before any request: the example's must pass
        task_ops.parse_params(args.params)
