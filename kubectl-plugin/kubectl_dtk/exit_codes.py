"""Exit codes of every `kubectl dtk` command (SPEC section 8); CI and GitOps gate on them."""

from __future__ import annotations

from typing import Final

OK: Final = 0
TASK_FAILED: Final = 1  # the Task failed or was cancelled (or, for --exit-code, did not succeed)
USAGE_OR_API: Final = 2  # bad flags, or the API server said no
TIMEOUT: Final = 3  # --timeout passed before the awaited outcome
NOT_FOUND: Final = 4  # the named object does not exist
INTERRUPTED: Final = 130  # Ctrl-C: the shell convention (128 + SIGINT), left quietly


def of_outcome(state: str) -> int:
    """A finished Task's exit code: 0 when it succeeded, 1 when it failed or was cancelled."""
    return OK if state == "succeeded" else TASK_FAILED
