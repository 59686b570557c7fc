"""AWS errors mapped once, at the boundary: temporary ones are retried here with backoff,
permanent ones reach the row that failed with AWS's own code and message."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

T = TypeVar("T")

# Throttling and server-side trouble: AWS asks clients to retry these with backoff.
# botocore's own "slow down" list (retries/standard.py) plus the server-side and timeout codes.
TEMPORARY_CODES = frozenset({
    "RequestLimitExceeded", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "TooManyRequestsException", "LimitExceededException", "PriorRequestNotComplete",
    "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable", "Unavailable",
    "RequestTimeout", "RequestTimeoutException",
})


MAX_GARBLED_CHARS = 200  # of an unparseable answer quoted in the error: its start says what it was


class AwsError(Exception):
    """An AWS call that failed for good (or ran out of retries); `code` is AWS's error code."""

    def __init__(self, operation: str, code: str, message: str, *, temporary: bool) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.operation, self.code, self.message, self.temporary = operation, code, message, temporary


def classify(operation: str, error: Exception) -> AwsError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", "Unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        temporary = code in TEMPORARY_CODES or status >= 500
        return AwsError(operation, code, str(details.get("Message", "")), temporary=temporary)
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return AwsError(operation, type(error).__name__, str(error), temporary=True)
    if isinstance(error, ResponseParserError):  # an answer that is not AWS's (an HTML 5xx page): like a 5xx
        return AwsError(operation, type(error).__name__, str(error)[:MAX_GARBLED_CHARS], temporary=True)
    return AwsError(operation, type(error).__name__, str(error), temporary=False)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter (AWS's advice for throttling)."""

    attempts: int = 8
    first_delay_seconds: float = 0.2
    max_delay_seconds: float = 5.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay_seconds, self.first_delay_seconds * 2**attempt))


Report = Callable[[str], None]
Observe = Callable[[str, str], None]  # (operation, outcome): ok | retry | error, for metrics


async def call(operation: str, fn: Callable[..., T], *, policy: RetryPolicy, report: Report | None = None,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, observe: Observe | None = None,
               also_temporary: frozenset[str] = frozenset(), settled: Callable[[], Awaitable[T | None]] | None = None,
               **kwargs: Any) -> T:
    """Runs a blocking boto3 call off the event loop; temporary failures are retried and reported.
    `also_temporary`: codes that are temporary for this call only (eventual consistency).
    `settled`: asked before each retry whether the failed attempt took effect after all (a 5xx
    or a lost answer says nothing about that); what it returns ends the call instead."""
    seen = observe or (lambda _operation, _outcome: None)
    for attempt in range(policy.attempts):
        try:
            if attempt and settled is not None and (done := await settled()) is not None:
                return done
            result = await asyncio.to_thread(fn, **kwargs)
        except (ClientError, BotoCoreError, ResponseParserError) as raw:
            error = classify(operation, raw)
            if not (error.temporary or error.code in also_temporary) or attempt + 1 == policy.attempts:
                seen(operation, "error")
                raise error from raw
            seen(operation, "retry")
            pause = policy.delay(attempt)
            if report is not None:
                report(f"AWS {operation} answered {error.code}; retry {attempt + 1} of {policy.attempts - 1} "
                       f"in {pause:.1f} s")
            await sleep(pause)
        else:
            seen(operation, "ok")
            return result
    raise AssertionError("unreachable: the last attempt returns or raises")
