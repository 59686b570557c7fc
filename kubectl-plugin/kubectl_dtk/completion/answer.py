"""Cobra's completion answer, which kubectl passes on to the shell's completion script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

# cobra's ShellCompDirective bits (spf13/cobra completions.go)
FILES = 0  # the shell's default: file names when there is no candidate
NO_FILES = 4  # ShellCompDirectiveNoFileComp: never offer file names
KEEP_ORDER = 32  # ShellCompDirectiveKeepOrder: rows and Tasks in their own order, not sorted


class Candidate(NamedTuple):  # NamedTuples, not dataclasses: `dataclasses` costs ~10 ms of start-up
    value: str
    description: str = ""


class Answer(NamedTuple):
    candidates: Sequence[Candidate]
    directive: int = NO_FILES

    def starting_with(self, prefix: str) -> Answer:
        """What the user has typed so far narrows the candidates (cobra leaves that to the program)."""
        return Answer([c for c in self.candidates if c.value.startswith(prefix)], self.directive)

    def render(self) -> str:
        lines = [f"{c.value}\t{_one_line(c.description)}" if c.description else c.value for c in self.candidates]
        return "".join(f"{line}\n" for line in [*lines, f":{self.directive}"])


def _one_line(text: str) -> str:
    return " ".join(text.split())
