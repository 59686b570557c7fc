"""Placeholder: filled in by the plugin work of issue 3."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def register(commands: Any, common_flags: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds this group's subcommands."""
