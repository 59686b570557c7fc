"""Which word is being completed: a command, a flag, a flag's value or a positional argument.

The command's own argparse parser says which flags take a value and which positionals come in
what order; the positional's metavar (SI, TASK, WORKFLOW, INDEX, ...) names what to offer.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kubectl_dtk.cli import command_parser
from kubectl_dtk.commands import COMMANDS
from kubectl_dtk.completion.answer import FILES, NO_FILES, Answer, Candidate

# Flags whose value is a file name: the shell completes those itself.
FILE_FLAGS = frozenset({"--kubeconfig"})


class Scan:
    """The words typed after the command: flag values by destination, positionals in order, and
    the flag still waiting for its value, if the word being completed is one. (A plain class:
    `dataclasses` costs ~10 ms of start-up, a tenth of a Tab.)"""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.positionals: list[str] = []
        self.waiting: argparse.Action | None = None
        self.instance = ""  # the service instance named, for commands whose first argument is one


def complete(done: Sequence[str], word: str) -> Answer:
    """The answer for `word`, after the words `done` (the first is the command)."""
    if not done:
        return Answer([Candidate(name) for name in COMMANDS], NO_FILES).starting_with(word)
    parser = command_parser(done[0])
    if parser is None:
        return Answer((), NO_FILES)
    scan = scan_words(parser, done[1:])
    if scan.waiting is not None:
        return _flag_value(scan.waiting, scan, word)
    if word.startswith("-") and "=" in word:  # --output=ya: the value, offered with its flag
        flag, _, value = word.partition("=")
        action = _options(parser).get(flag)
        answer = _flag_value(action, scan, value) if action is not None and action.nargs != 0 else Answer(())
        return Answer([Candidate(f"{flag}={c.value}", c.description) for c in answer.candidates], NO_FILES)
    if word.startswith("-"):
        return Answer(_flags(parser), NO_FILES).starting_with(word)
    action = _next_positional(parser, len(scan.positionals))
    if action is None:
        return Answer((), NO_FILES)
    from kubectl_dtk.completion import sources  # the HTTP client only for what the cluster must answer

    return sources.for_positional(str(action.metavar), scan, word).starting_with(word)


def scan_words(parser: argparse.ArgumentParser, words: Sequence[str]) -> Scan:
    options = _options(parser)
    scan = Scan()
    first = _next_positional(parser, 0)
    for word in words:
        if scan.waiting is not None:
            scan.values[scan.waiting.dest] = word
            scan.waiting = None
        elif word.startswith("-") and word != "-":
            flag, equals, value = word.partition("=")
            action = options.get(flag)
            if action is not None and action.nargs != 0:
                if equals:
                    scan.values[action.dest] = value
                else:
                    scan.waiting = action
        else:
            scan.positionals.append(word)
    if first is not None and first.metavar == "SI" and scan.positionals:
        scan.instance = scan.positionals[0]
    return scan


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


def _flags(parser: argparse.ArgumentParser) -> list[Candidate]:
    """Long flags, then short ones, each with its help's first sentence."""
    flags = [(flag, action) for action in parser._actions for flag in action.option_strings]
    flags.sort(key=lambda pair: (not pair[0].startswith("--"), pair[0]))
    return [Candidate(flag, (action.help or "").split(". ")[0]) for flag, action in flags]


def _next_positional(parser: argparse.ArgumentParser, given: int) -> argparse.Action | None:
    """The positional the next word fills; one taking several words (`*`) goes on filling."""
    positionals = [action for action in parser._actions if not action.option_strings]
    for action in positionals:
        if action.nargs in ("*", "+", argparse.REMAINDER):
            return action
        if given == 0:
            return action
        given -= 1
    return None


def _flag_value(action: argparse.Action, scan: Scan, word: str) -> Answer:
    if action.choices is not None:
        return Answer([Candidate(str(choice)) for choice in action.choices], NO_FILES).starting_with(word)
    if FILE_FLAGS & set(action.option_strings):
        return Answer((), FILES)
    from kubectl_dtk.completion import sources

    return sources.for_flag(action.dest, scan, word).starting_with(word)
