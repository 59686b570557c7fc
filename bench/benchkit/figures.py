"""Numbers out of Task bodies and samples: percentiles, row durations."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from dtk_api.timefmt import parse_time

Body = Mapping[str, Any]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default); q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def span(start: str | None, end: str | None) -> float:
    """Seconds between two status timestamps (millisecond resolution on the wire)."""
    if not start or not end:
        raise ValueError(f"a row has not both started and ended: {start!r} .. {end!r}")
    return (parse_time(end) - parse_time(start)).total_seconds()


def steps(task: Body) -> list[Body]:
    return list((task.get("status") or {}).get("steps") or [])


def row(task: Body, index: str) -> Body:
    found = next((s for s in steps(task) if s["index"] == index), None)
    if found is None:
        raise KeyError(f"the task has no row {index!r}")
    return found


def row_seconds(step: Body) -> float:
    return span(step.get("startedAt"), step.get("endedAt"))


def task_seconds(task: Body) -> float:
    status = task.get("status") or {}
    return span(status.get("startedAt"), status.get("endedAt"))


def stage_rows(task: Body) -> list[Body]:
    """Top-level stage rows: an index without a dot (a lone create_node row counts as a stage)."""
    return [s for s in steps(task) if s["index"] and "." not in s["index"]]
