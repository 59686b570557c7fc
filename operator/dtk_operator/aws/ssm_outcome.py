"""From SSM's invocation record to what a step reports: exit code, output tails, honest truncation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# GetCommandInvocation returns only the FIRST 24,000 characters of stdout and 8,000 of stderr
# (SSM API reference); content at that length has most likely been cut by SSM.
SSM_STDOUT_LIMIT = 24_000
SSM_STDERR_LIMIT = 8_000
# SPEC section 4: a step keeps the last 4 KiB of each stream. The same figure as
# targets/output.py, restated because aws/ sits below targets/ and does not import it.
TAIL_BYTES = 4096
# Invocation statuses that are not final yet (the SSM waiter `CommandExecuted` retries on the first three).
PENDING = frozenset({"Pending", "InProgress", "Delayed", "Cancelling"})
# Our own status when SSM gave no final answer before the local deadline.
DEADLINE_EXCEEDED = "DeadlineExceeded"


@dataclass(frozen=True)
class SsmOutcome:
    return_code: int | None
    stdout: str
    stderr: str
    truncated: bool  # SSM cut the output (24,000/8,000 characters), or we kept only the last TAIL_BYTES
    timed_out: bool
    status: str  # SSM's final Status (Success, Failed, TimedOut, Cancelled...) or DEADLINE_EXCEEDED


def tail(text: str, limit: int) -> tuple[str, bool]:
    """The last `limit` bytes of `text` in UTF-8, and whether anything was cut."""
    data = text.encode()
    if len(data) <= limit:
        return text, False
    # A cut may split one character: drop its leftover bytes rather than grow past the limit.
    return data[-limit:].decode("utf-8", errors="ignore"), True


def _with_note(text: str, note: str) -> str:
    # The note goes last: the engine quotes the last stderr line in the row's message.
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{note}"


def _return_code(status: str, code: int | None) -> int | None:
    if status == "Success":
        return code if code is not None else 0
    if status == "Failed" and code:  # a Failed invocation with code 0 or -1 never gave a usable exit status
        return code
    return None


def from_invocation(invocation: Mapping[str, Any], *, tail_bytes: int = TAIL_BYTES) -> SsmOutcome:
    """A final GetCommandInvocation response as an outcome.

    When no exit status of the script explains the result (Cancelled, Undeliverable, Terminated...),
    SSM's Status and StatusDetails are added as the last stderr line.
    """
    status = str(invocation.get("Status") or "Unknown")
    details = str(invocation.get("StatusDetails") or status)
    raw_code = invocation.get("ResponseCode")
    code = raw_code if isinstance(raw_code, int) and raw_code >= 0 else None  # SSM says -1: the script never started
    stdout = str(invocation.get("StandardOutputContent") or "")
    stderr = str(invocation.get("StandardErrorContent") or "")
    cut_by_ssm = len(stdout) >= SSM_STDOUT_LIMIT or len(stderr) >= SSM_STDERR_LIMIT
    return_code = _return_code(status, code)
    # "Delivery Timed Out" never ran the script: a failure to reach the node, not a step timeout.
    timed_out = status == "TimedOut" and details != "Delivery Timed Out"
    if return_code is None and not timed_out:
        stderr = _with_note(stderr, f"ssm: {status} ({details})")
    out, out_cut = tail(stdout, tail_bytes)
    err, err_cut = tail(stderr, tail_bytes)
    return SsmOutcome(return_code=return_code, stdout=out, stderr=err, truncated=cut_by_ssm or out_cut or err_cut,
                      timed_out=timed_out, status=status)


def deadline_outcome(*, waited_seconds: float, last_status: str) -> SsmOutcome:
    note = f"ssm: no final status within {waited_seconds:g}s (last seen: {last_status}); CancelCommand sent"
    return SsmOutcome(return_code=None, stdout="", stderr=note, truncated=False, timed_out=True,
                      status=DEADLINE_EXCEEDED)
