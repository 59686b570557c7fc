"""DTK's ASCII box tables (`+---+`, `| x |`, `N rows in set`), for every listing.

Plain string work on purpose: a 1,000-row task table renders in a few milliseconds, and the
plugin starts without importing any terminal library.
"""

from __future__ import annotations

from collections.abc import Sequence

# A newline or tab inside a cell would break the box; shown escaped, as DTK's table printer did.
_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def render_box_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, no_headers: bool = False
) -> str:
    """The box with upper-case headers and the `N rows in set` footer; no rows: the footer alone.

    `no_headers` (kubectl's `--no-headers`, for scripts) keeps only the `| x |` data lines: no
    border, header or footer, and widths fitted to the data. The `|` separators stay so that
    `cut -d'|'` or `awk -F'|'` still split cells that are empty or contain spaces.
    """
    cells = [[_clean(cell) for cell in row] for row in rows]
    if no_headers:
        return "".join(_line(row, _widths(cells, len(headers))) + "\n" for row in cells)
    if not cells:
        return _footer(0)
    titles = [header.upper() for header in headers]
    widths = _widths([titles, *cells], len(headers))
    border = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    body = [border, _line(titles, widths), border, *(_line(row, widths) for row in cells), border]
    return "\n".join(body) + "\n" + _footer(len(cells))


def _clean(cell: str) -> str:
    return cell.translate(_ESCAPES) if "\n" in cell or "\t" in cell or "\r" in cell else cell


def _widths(rows: Sequence[Sequence[str]], columns: int) -> list[int]:
    widths = [0] * columns
    for row in rows:
        for column, cell in enumerate(row):
            if len(cell) > widths[column]:
                widths[column] = len(cell)
    return widths


def _line(row: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"


def _footer(count: int) -> str:
    return f"{count} {'row' if count == 1 else 'rows'} in set\n"
