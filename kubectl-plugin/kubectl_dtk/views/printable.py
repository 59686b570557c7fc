"""Text that came from commands (their output, and messages quoting it) shown, never obeyed.

A step's output may hold terminal control sequences: a clear-screen, a cursor move, a title
change, a bell. Printed raw they act on the user's terminal (and a watcher's CI log). Every
control character but the new line and the tab is written out as `\\xNN` instead.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)
