"""A benchmark's outcome: figures to print, targets checked (never asserted), and a JSON form for run_all."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RULE = "=" * 100


@dataclass(frozen=True)
class Figure:
    label: str
    value: str  # formatted, unit included: figures differ too much in kind to share one format


@dataclass(frozen=True)
class Check:
    """A target: `value` against `limit`, both in `unit`; `inclusive` means "at most" rather than "under"."""

    label: str
    value: float
    limit: float
    unit: str
    inclusive: bool = False

    @property
    def ok(self) -> bool:
        return self.value <= self.limit if self.inclusive else self.value < self.limit

    @property
    def target(self) -> str:
        return f"{'<=' if self.inclusive else '<'} {self.limit:g} {self.unit}"

    @property
    def verdict(self) -> str:
        return "OK" if self.ok else "OVER"


@dataclass(frozen=True)
class Result:
    key: str  # the brief's letter: a, b, c, d
    title: str
    figures: tuple[Figure, ...]
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default=())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.3f} s"


def render(result: Result) -> str:
    width = max(len(f.label) for f in (*result.figures, *(Figure(c.label, "") for c in result.checks)))
    lines = [RULE, f"({result.key}) {result.title}", RULE]
    lines += [f"  {f.label:<{width}}  {f.value}" for f in result.figures]
    for check in result.checks:
        lines.append(f"  target: {check.label:<{width - 8}}  {check.value:.2f} {check.unit} "
                     f"(target {check.target})  {check.verdict}")
    lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)


def write_json(result: Result, path: Path) -> None:
    path.write_text(json.dumps(asdict(result), indent=2))


def read_json(path: Path) -> Result:
    raw: dict[str, Any] = json.loads(path.read_text())
    return Result(key=raw["key"], title=raw["title"], figures=tuple(Figure(**f) for f in raw["figures"]),
                  checks=tuple(Check(**c) for c in raw["checks"]), notes=tuple(raw["notes"]))
