"""The order of an instance's Tasks: the operator's queue and the plugin's "latest Task" agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api.resources import SEQUENCE_ANNOTATION

UNNUMBERED = 10**9  # a Task not yet numbered by the operator came after every numbered one


def sequence_of(task: Mapping[str, Any]) -> int:
    annotations = task.get("metadata", {}).get("annotations") or {}
    value = str(annotations.get(SEQUENCE_ANNOTATION, ""))
    return int(value) if value.isdigit() else UNNUMBERED


def queue_key(task: Mapping[str, Any]) -> tuple[str, int, str]:
    """Creation order: creationTimestamp, then the operator's sequence number (the timestamp has
    one-second resolution), then the name."""
    meta = task.get("metadata", {})
    return str(meta.get("creationTimestamp", "")), sequence_of(task), str(meta.get("name", ""))
