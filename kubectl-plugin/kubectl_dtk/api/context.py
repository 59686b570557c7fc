"""What every command gets: the parsed kubectl-style flags, the streams, and a lazy API client."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import TextIO

from kubectl_dtk.api.client import DtkClient


class CommandError(Exception):
    """A failure to report on stderr with an exit code (see exit_codes)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def color_wanted(choice: str, stream: TextIO) -> bool:
    """`--color auto|always|never`; NO_COLOR (any value) wins over auto, as no-color.org asks."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


@dataclass
class Context:
    namespace: str | None = None
    all_namespaces: bool = False
    kube_context: str | None = None
    kubeconfig: str | None = None
    output: str = "table"
    no_headers: bool = False
    color_choice: str = "auto"
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    @cached_property
    def client(self) -> DtkClient:
        """Built on first use, so `--help` and usage errors never touch a kubeconfig."""
        return DtkClient(kubeconfig=self.kubeconfig, context=self.kube_context, namespace=self.namespace)

    @property
    def color(self) -> bool:
        return color_wanted(self.color_choice, self.out)

    def say(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")

    def warn(self, text: str) -> None:
        self.err.write(text if text.endswith("\n") else text + "\n")
