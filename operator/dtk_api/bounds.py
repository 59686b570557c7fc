"""Keeps a Task's status under its size budget whatever the commands print (SPEC section 4).

Each output is already cut to its last 4 KiB when captured; many rows times many commands can
still add up, so before a write the oldest outputs are cut further, then the oldest messages
are dropped, until the whole status fits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

STATUS_BUDGET_BYTES = 200 * 1024  # under the 256 KiB promise, leaving room for metadata and spec
_KEEP_MESSAGES = 20  # the newest messages outlive output tails: they say how the Task ended


def _size(status: dict[str, Any]) -> int:
    return len(json.dumps(status, separators=(",", ":")).encode())


def _results(status: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in status.get("steps", ()):
        yield from step.get("results", ())


def _cut_outputs(status: dict[str, Any], tail: int) -> None:
    for result in _results(status):
        for key in ("stdout", "stderr"):
            text = result.get(key) or ""
            if len(text) > tail:
                result[key] = text[len(text) - tail:] if tail else ""
                result["truncated"] = True


def _drop_messages(status: dict[str, Any], budget: int, keep: int) -> None:
    messages = status.get("messages", [])
    while len(messages) > keep and _size(status) > budget:
        del messages[: max(1, (len(messages) - keep) // 2)]  # oldest first, in halves to stay cheap


def bounded(status: dict[str, Any], budget: int = STATUS_BUDGET_BYTES) -> dict[str, Any]:
    """Returns `status` itself when it fits, else a trimmed deep copy that does. Cuts go from the
    least useful to the most: long output heads, then old messages, then the output tails."""
    if _size(status) <= budget:
        return status
    trimmed: dict[str, Any] = json.loads(json.dumps(status))
    plan: list[Callable[[], None]] = [
        partial(_cut_outputs, trimmed, 1024), partial(_cut_outputs, trimmed, 256),
        partial(_drop_messages, trimmed, budget, keep=_KEEP_MESSAGES), partial(_cut_outputs, trimmed, 64),
        partial(_cut_outputs, trimmed, 0), partial(_drop_messages, trimmed, budget, keep=0),
    ]
    for cut in plan:
        cut()
        if _size(trimmed) <= budget:
            break
    return trimmed
