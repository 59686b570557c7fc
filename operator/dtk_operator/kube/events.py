"""Kubernetes Events, posted through kopf's own poster (queued, retried with its backoff)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf


def _reference(body: Mapping[str, object]) -> kopf.Body:
    return kopf.Body(cast(Any, dict(body)))


def normal(body: Mapping[str, object], *, reason: str, message: str) -> None:
    kopf.event(_reference(body), type="Normal", reason=reason, message=message)


def warning(body: Mapping[str, object], *, reason: str, message: str) -> None:
    kopf.event(_reference(body), type="Warning", reason=reason, message=message)
