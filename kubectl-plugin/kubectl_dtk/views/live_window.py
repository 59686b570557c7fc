"""Fits DTK's box table to a terminal's height for the live view (pure: lines in, lines out).

A 1,000-row Task does not fit any screen, and a live region taller than the screen cannot be
redrawn in place (the terminal has scrolled it away). So the header stays, and the body shows a
window around the row where the Task is, with a note saying which rows are shown.
"""

from __future__ import annotations

from collections.abc import Sequence

HEAD_LINES = 3  # top border, titles, border
TAIL_LINES = 2  # bottom border, footer (`N rows in set`, or the window note)
# Where the focus row sits in the window: past rows above it, the next few below.
FOCUS_AT = 2 / 3


def fit_table(lines: Sequence[str], *, height: int, focus: int) -> list[str]:
    """`lines` is a box table with headers (render_box_table's lines); `focus` a body row
    position. Returns at most `height` lines, the header and footer kept whenever they fit."""
    if len(lines) <= height:
        return list(lines)
    body = lines[HEAD_LINES:-TAIL_LINES]
    room = height - HEAD_LINES - TAIL_LINES
    if room < 1 or not body:  # a terminal too small for a window: show what fits
        return list(lines[:max(height, 0)])
    first = min(max(focus - int(room * FOCUS_AT), 0), len(body) - room)
    shown = body[first:first + room]
    note = f"rows {first + 1}-{first + len(shown)} of {len(body)} shown (the terminal is too short for all)"
    return [*lines[:HEAD_LINES], *shown, lines[-TAIL_LINES], note]


def focus_row(statuses: Sequence[str]) -> int:
    """The last row that has a status: where the run has got to (0 before it starts)."""
    started = [position for position, status in enumerate(statuses) if status]
    return started[-1] if started else 0
