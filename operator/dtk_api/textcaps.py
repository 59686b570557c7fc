"""Caps on the free text the operator writes into a status, and the visible cut (SPEC 4).

Names, commands and messages are built from the Assembly's text (no length bound on commands or
attribute defaults) and from params (256 characters, but a name or command may quote many), so
each field that reaches a status has a cap sized for what a reader needs from it. A cut text
says so and how much is gone: `head… (12544 more characters)`. Cutting an already cut text
again adds the counts up, so the number always refers to the original text.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Keep = Literal["head", "tail", "both"]  # which end(s) of a text survive a cut

# Row names, nodes and placed-component labels: a 253-character stage name template with one
# full 256-character param fits uncut; more is no longer a label anyone reads in a table row.
MAX_NAME_CHARS: Final = 512
MAX_ACTION_CHARS: Final = 1024  # a row's `action`: its labels joined with ", "
MAX_RUN_CHARS: Final = 2048  # a command after substitution: its head says what ran
# errors[].message, failure.message, status.message, an instance's problem: one explanation.
MAX_MESSAGE_CHARS: Final = 2048
MAX_CONDITION_MESSAGE_CHARS: Final = 4096  # quotes a failure message and says what to do
MAX_LOG_CHARS: Final = 1024  # messages[].text: up to 200 of them share the Task's budget
MAX_STACKTRACE_CHARS: Final = 4096  # its tail: the innermost frame and the exception
MAX_STDERR_CHARS: Final = 4096  # failure.stderr: the same 4 KiB tail as a command's output
MAX_QUOTE_CHARS: Final = 256  # user text quoted inside an error message

_SIDES: Final = {"head": ("… ", ""), "tail": ("", " …"), "both": ("… ", " …")}
_CUTS: Final = {
    keep: re.compile(("^(?P<head>.*?)… " if keep != "tail" else "^(?P<head>)")
                     + r"\((?P<hidden>\d+) more characters\)"
                     + (" …(?P<tail>.*)$" if keep != "head" else "(?P<tail>)$"), re.DOTALL)
    for keep in ("head", "tail", "both")
}


def _marker(keep: Keep, hidden: int) -> str:
    before, after = _SIDES[keep]
    return f"{before}({hidden} more characters){after}"


def _pieces(text: str, keep: Keep) -> tuple[str, str, int, int]:
    """(where the head comes from, where the tail comes from, characters hidden already, length of
    the content): an earlier cut of the same kind is undone so that the counts add up."""
    earlier = _CUTS[keep].match(text)
    if earlier is not None:
        head, tail = earlier["head"], earlier["tail"]
        return head, tail, int(earlier["hidden"]), len(head) + len(tail)
    return (text if keep != "tail" else ""), (text if keep != "head" else ""), 0, len(text)


def cut(text: str, limit: int, keep: Keep = "head") -> str:
    """`text` itself when it has at most `limit` characters, else at most `limit` characters
    keeping its head, its tail or both, with a marker in place of what was left out."""
    if len(text) <= limit:
        return text
    head, tail, hidden, content = _pieces(text, keep)
    room = limit - len(_marker(keep, content + hidden))  # the count has at most this many digits
    if room < 1:
        raise ValueError(f"{limit} characters leave no room for a cut marker")
    kept_head = min(len(head), {"head": room, "tail": 0, "both": (room + 1) // 2}[keep])
    kept_tail = min(len(tail), room - kept_head)
    hidden += content - kept_head - kept_tail
    return f"{head[:kept_head]}{_marker(keep, hidden)}{tail[len(tail) - kept_tail:]}"


def quote(text: str) -> str:
    """User text as an error message quotes it: its head, enough to recognise it."""
    return cut(text, MAX_QUOTE_CHARS)
