"""What every command gets: the parsed kubectl-style flags, the streams, and a lazy API client."""

from __future__ import annotations

import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kubectl_dtk.api.client import DtkClient


def color_wanted(choice: str, stream: TextIO) -> bool:
    """`--color auto|always|never`; NO_COLOR (any value) wins over auto, as no-color.org asks."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


class Context:
    """A plain class rather than a dataclass: `dataclasses` imports `inspect`, about 10 ms of every
    command's start-up for nothing a command uses."""

    def __init__(self, *, namespace: str | None = None, all_namespaces: bool = False,
                 kube_context: str | None = None, kubeconfig: str | None = None, output: str = "table",
                 no_headers: bool = False, color_choice: str = "auto", out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.namespace, self.all_namespaces, self.kube_context = namespace, all_namespaces, kube_context
        self.kubeconfig, self.output, self.no_headers, self.color_choice = kubeconfig, output, no_headers, color_choice
        self.out: TextIO = sys.stdout if out is None else out
        self.err: TextIO = sys.stderr if err is None else err

    @cached_property
    def client(self) -> DtkClient:
        """Built on first use, so `--help` and usage errors never touch a kubeconfig (nor import
        the HTTP client)."""
        from kubectl_dtk.api.client import DtkClient

        return DtkClient(kubeconfig=self.kubeconfig, context=self.kube_context, namespace=self.namespace)

    @property
    def color(self) -> bool:
        return color_wanted(self.color_choice, self.out)

    def say(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")

    def warn(self, text: str) -> None:
        self.err.write(text if text.endswith("\n") else text + "\n")
