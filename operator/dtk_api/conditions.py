"""Condition types, reasons and the kstatus rules (SPEC section 6), as pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, Literal, TypedDict

from dtk_api.textcaps import MAX_CONDITION_MESSAGE_CHARS, cut
from dtk_api.timefmt import format_time

READY: Final = "Ready"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
COMPLETED: Final = "Completed"
SUCCEEDED: Final = "Succeeded"

# Reasons: CamelCase, as Kubernetes API conventions ask; each says what happened.
REASON_STAGED: Final = "Staged"
REASON_TASK_PENDING: Final = "TaskPending"
REASON_TASK_RUNNING: Final = "TaskRunning"
REASON_TASK_SUCCEEDED: Final = "TaskSucceeded"
REASON_TASK_FAILED: Final = "TaskFailed"
REASON_TASK_CANCELLED: Final = "TaskCancelled"
REASON_INVALID_SPEC: Final = "InvalidSpec"
REASON_ASSEMBLY_NOT_FOUND: Final = "AssemblyNotFound"
REASON_LOCAL_TARGET_DISABLED: Final = "LocalTargetDisabled"
REASON_TARGET_NOT_FOUND: Final = "TargetNotFound"
REASON_TARGET_NOT_ALLOWED: Final = "TargetNotAllowed"
REASON_TARGET_NOT_READY: Final = "TargetNotReady"
# A Target's Ready condition
REASON_LOCAL_TARGET: Final = "LocalTarget"
REASON_CREDENTIALS_VERIFIED: Final = "CredentialsVerified"
REASON_CREDENTIALS_NOT_FOUND: Final = "CredentialsNotFound"
REASON_CREDENTIALS_REFUSED: Final = "CredentialsRefused"
REASON_STOPPED: Final = "Stopped"
REASON_NOT_DEPLOYED: Final = "NotDeployed"
REASON_VALID: Final = "Valid"

ConditionStatus = Literal["True", "False", "Unknown"]


class RawCondition(TypedDict):
    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


def set_condition(
    conditions: Sequence[Mapping[str, object]],
    *,
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime,
    generation: int,
) -> list[RawCondition]:
    """Replaces one condition; lastTransitionTime moves only when the status flips."""
    previous = next((c for c in conditions if c.get("type") == type_), None)
    kept_since = previous.get("lastTransitionTime") if previous is not None else None
    moved = previous is None or previous.get("status") != status or not kept_since
    since = format_time(now) if moved else str(kept_since)
    fresh = RawCondition(type=type_, status=status, reason=reason,
                         message=cut(message, MAX_CONDITION_MESSAGE_CHARS, "both"),  # it may quote any failure
                         lastTransitionTime=since, observedGeneration=generation)
    kept = [RawCondition(**c) for c in conditions if c.get("type") != type_]  # type: ignore[typeddict-item]
    return sorted([*kept, fresh], key=lambda c: c["type"])


def task_conditions(
    conditions: Sequence[Mapping[str, object]], *, state: str, message: str, now: datetime, generation: int
) -> list[RawCondition]:
    """`Completed` turns True at the end whatever the outcome; `Succeeded` says which."""
    done = state in ("succeeded", "failed", "cancelled")
    reason = {"succeeded": REASON_TASK_SUCCEEDED, "failed": REASON_TASK_FAILED,
              "cancelled": REASON_TASK_CANCELLED, "executing": REASON_TASK_RUNNING}.get(state, REASON_TASK_PENDING)
    out = set_condition(conditions, type_=COMPLETED, status="True" if done else "False", reason=reason,
                        message=message, now=now, generation=generation)
    succeeded: ConditionStatus = "True" if state == "succeeded" else ("False" if done else "Unknown")
    return set_condition(out, type_=SUCCEEDED, status=succeeded, reason=reason, message=message, now=now,
                         generation=generation)
