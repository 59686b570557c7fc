"""One SSM API call: off the event loop, throttling and 5xx retried a bounded number of times.

Errors are mapped here, once, into `SsmError` with AWS's code and message and the retry policy
(temporary or permanent); the original botocore exception stays chained for the log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dtk_operator.aws.errors import AwsError, Observe, RetryPolicy, call

ATTEMPTS = 5  # per call; with backoff 0.5, 1, 2, 4 s that is ~7.5 s of patience before giving up
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 8.0


class SsmError(AwsError):
    """An SSM call failed. `temporary`: the same call may succeed later (throttling, 5xx, network)."""

    def __init__(self, code: str, message: str, *, temporary: bool) -> None:
        super().__init__("SSM", code, message, temporary=temporary)
        self.args = (f"{code}: {message}",)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RetryingCalls:
    """Calls `client.<operation>(**params)` through errors.call (off the event loop, one retry policy)."""

    def __init__(self, client: Any, *, sleep: Callable[[float], Awaitable[None]], attempts: int = ATTEMPTS,
                 observe: Observe | None = None) -> None:
        self._client = client
        self._sleep = sleep
        self._observe = observe
        self._policy = RetryPolicy(attempts=attempts, first_delay_seconds=FIRST_RETRY_SECONDS,
                                   max_delay_seconds=MAX_RETRY_SECONDS)

    async def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        """Ends with the response, a permanent SsmError, or a temporary one after `attempts` tries."""
        try:
            response: dict[str, Any] = await call(operation, getattr(self._client, operation), policy=self._policy,
                                                  sleep=self._sleep, observe=self._observe, **params)
        except AwsError as error:
            raise SsmError(error.code, f"{operation}: {error.message}", temporary=error.temporary) from error
        return response
