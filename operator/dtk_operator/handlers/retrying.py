"""What a handler does with an exception it did not expect (issue 8 point 2): retry with a capped
exponential backoff instead of kopf's fixed 60 s, and say so on the object after a few tries."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

from dtk_operator.engine.services import Services
from dtk_operator.engine.trouble import REPORT_AFTER_FAILURES, backoff, report_stalled
from dtk_operator.kube.problems import describe

logger = logging.getLogger(__name__)


async def retry_later(services: Services, plural: str, body: Mapping[str, Any], error: Exception,
                      retry: int) -> kopf.TemporaryError:
    """The error to raise for kopf; `retry` is kopf's count of earlier tries of this handler."""
    failures = retry + 1
    delay = backoff(failures)
    text = describe(error)
    logger.error("%s %s/%s: unexpected error (failure %d, next try in %g s): %s", plural,
                 body["metadata"].get("namespace"), body["metadata"].get("name"), failures, delay, text,
                 exc_info=error)
    if failures >= REPORT_AFTER_FAILURES:
        await report_stalled(services, plural, body, failures=failures, error=text, retry_in=delay)
    return kopf.TemporaryError(f"{text} (failure {failures}; next try in {delay:g} s)", delay=delay)
