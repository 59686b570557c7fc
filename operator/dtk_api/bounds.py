"""Keeps a Task's status under its size budget whatever the input (SPEC 4 and 11).

Every free-text field is first held to its own cap (dtk_api.textcaps): names, commands, errors,
the failure and the log can all quote the Assembly's unbounded text. Each output is already cut
to its last 4 KiB when captured; many rows times many commands can still add up, so before a
write the oldest outputs are cut further, then the oldest messages are dropped and, as a last
resort, the rows' names, commands and errors are cut shorter, until the whole status fits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from dtk_api import textcaps as caps

STATUS_BUDGET_BYTES = 200 * 1024  # under the 256 KiB promise, leaving room for metadata and spec
_KEEP_MESSAGES = 20  # the newest messages outlive output tails: they say how the Task ended
_SHORT_ROW_CHARS = 256  # row texts cut this far still read well; the newest messages are worth more
_SHORTEST_ROW_CHARS = 64  # the last resort: enough to tell rows apart

# One free-text field: (the dict or list holding it, its key or position, its cap, what a cut keeps).
Slot = tuple[Any, Any, int, caps.Keep]


def _size(status: dict[str, Any]) -> int:
    return len(json.dumps(status, separators=(",", ":")).encode())


def _results(status: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in status.get("steps", ()):
        yield from step.get("results", ())


def _step_slots(step: dict[str, Any]) -> Iterator[Slot]:
    yield step, "name", caps.MAX_NAME_CHARS, "head"
    yield step, "node", caps.MAX_NAME_CHARS, "head"
    yield step, "action", caps.MAX_ACTION_CHARS, "head"
    for key in ("components", "nodes"):
        labels = step.get(key, ())
        yield from ((labels, i, caps.MAX_NAME_CHARS, "head") for i in range(len(labels)))
    yield from ((result, "run", caps.MAX_RUN_CHARS, "head") for result in step.get("results", ()))
    yield from ((error, "message", caps.MAX_MESSAGE_CHARS, "both") for error in step.get("errors", ()))


def _slots(status: dict[str, Any]) -> Iterator[Slot]:
    yield status, "message", caps.MAX_MESSAGE_CHARS, "both"
    failure = status.get("failure") or {}
    yield failure, "message", caps.MAX_MESSAGE_CHARS, "both"
    yield failure, "node", caps.MAX_NAME_CHARS, "head"
    yield failure, "stderr", caps.MAX_STDERR_CHARS, "tail"
    for step in status.get("steps", ()):
        yield from _step_slots(step)
    for message in status.get("messages", ()):
        yield message, "text", caps.MAX_LOG_CHARS, "both"
        yield message, "name", caps.MAX_NAME_CHARS, "head"
        yield message, "stacktrace", caps.MAX_STACKTRACE_CHARS, "tail"


def _text(slot: Slot) -> str:
    holder, key = slot[0], slot[1]
    value = holder[key] if isinstance(holder, list) else holder.get(key)
    return value if isinstance(value, str) else ""


def _cut(slot: Slot, limit: int) -> None:
    text = _text(slot)
    if len(text) > limit:
        slot[0][slot[1]] = caps.cut(text, limit, slot[3])


def _cap_fields(status: dict[str, Any]) -> None:
    for slot in _slots(status):
        _cut(slot, slot[2])


def _cut_rows(status: dict[str, Any], limit: int) -> None:
    for step in status.get("steps", ()):
        for slot in _step_slots(step):
            _cut(slot, min(limit, slot[2]))


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
    """Returns `status` itself when every field is within its cap and the whole fits, else a
    trimmed deep copy. Cuts go from the least useful to the most: long output heads, old messages,
    output tails, then the rows' own texts, the last messages, and the rows' texts again. The
    budget holds for any text and a realistic number of rows; more rows than fit are the business
    of child objects (SPEC 11)."""
    if _size(status) <= budget and all(len(_text(slot)) <= slot[2] for slot in _slots(status)):
        return status
    trimmed: dict[str, Any] = json.loads(json.dumps(status))
    plan: list[Callable[[], None]] = [
        partial(_cap_fields, trimmed),
        partial(_cut_outputs, trimmed, 1024), partial(_cut_outputs, trimmed, 256),
        partial(_drop_messages, trimmed, budget, keep=_KEEP_MESSAGES), partial(_cut_outputs, trimmed, 64),
        partial(_cut_outputs, trimmed, 0), partial(_cut_rows, trimmed, _SHORT_ROW_CHARS),
        partial(_drop_messages, trimmed, budget, keep=0), partial(_cut_rows, trimmed, _SHORTEST_ROW_CHARS),
    ]
    for cut in plan:
        cut()
        if _size(trimmed) <= budget:
            break
    return trimmed
