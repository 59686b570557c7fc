"""What `kubectl dtk --help` and each command's `--help` tell a user (issue 8 point 17)."""

from __future__ import annotations

import argparse

import pytest

from kubectl_dtk.cli import build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    found = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices)


def test_point_17_every_command_and_argument_says_what_it_is() -> None:
    missing = [f"{name} {action.option_strings or action.dest}"
               for name, parser in _commands().items() for action in parser._actions
               if not action.help or action.help == argparse.SUPPRESS]
    missing += [f"{name} (no description)" for name, parser in _commands().items() if not parser.description]
    assert missing == []


def test_point_17_the_top_level_help_speaks_to_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "register themselves" not in text and "imported" not in text  # no developer notes
    assert "deploy" in text and "task-status" in text and "examples:" in text
    assert "exit codes: 0 success, 1 the Task failed or was cancelled" in text
    listed = [line.split()[0] for line in text.splitlines() if line.startswith("    ") and line.split()]
    assert listed.index("list-assemblies") < listed.index("deploy") < listed.index("task-status")


def test_point_17_dash_m_means_one_thing() -> None:
    meanings = {(action.dest, action.help) for parser in _commands().values() for action in parser._actions
                if "-m" in action.option_strings}
    assert [dest for dest, _ in meanings] == ["mode"]
    converge = _commands()["converge"]
    assert "--message" in converge._option_string_actions
    with pytest.raises(SystemExit) as refused:
        build_parser("converge").parse_args(["converge", "one", "-m", "a note"])
    assert refused.value.code == 2
