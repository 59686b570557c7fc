"""Times as DTK's tables show them. Apart from model.py so that the listings (ls, list-tasks) use
them without importing the Task model."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """A naive time is taken as UTC (as dtk_api.timefmt does), not as the viewer's local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def table_time(moment: datetime | None) -> str:
    """DTK's `%H:%M:%S %d/%m/%y` in UTC; strftime drops the milliseconds (truncation, not rounding)."""
    return as_utc(moment).strftime("%H:%M:%S %d/%m/%y") if moment else ""
