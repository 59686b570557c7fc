"""What went wrong, in one line a user can read (an Event, a condition, a Task's failure)."""

from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException

from dtk_api.textcaps import cut

MAX_ERROR_CHARS = 500


def describe(error: BaseException) -> str:
    """One line saying what failed. An API error gives the server's own message, never the
    request or response headers the client would print."""
    if isinstance(error, ApiException):
        try:
            body = json.loads(error.body or "{}")
        except (TypeError, ValueError):
            body = {}
        detail = body.get("message", "") if isinstance(body, dict) else ""
        text = f"the API server answered {error.status} {error.reason}" + (f": {detail}" if detail else "")
    else:
        text = f"{type(error).__name__}: {error}"
    return cut(" ".join(text.split()), MAX_ERROR_CHARS, "both")
