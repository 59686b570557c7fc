"""SPEC section 6's health table, clause by clause, and the captured object that shows each clause.

Every row names a testdata file, a check that the captured object really is in that state (so a
fixture cannot be relabelled into coverage), the Argo CD health the SPEC gives it, where its
message must come from, and the kstatus verdict the same object gets (what Flux reads).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Body = Mapping[str, Any]

# The SPEC's cells, word for word, split into their clauses. Task has no Suspended; nor does Assembly.
SPEC_TABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("ServiceInstance", "Healthy"): ("Ready True and observedGeneration == generation",),
    ("ServiceInstance", "Progressing"): ("no status", "generation not observed", "Reconciling True",
                                         "no converge Task yet (`NotDeployed`)"),
    ("ServiceInstance", "Degraded"): ("Stalled True (message: its message)",),
    ("ServiceInstance", "Suspended"): ("powered off (reason `Stopped`)", "staged (`Staged`)"),
    ("Task", "Healthy"): ("succeeded",),
    ("Task", "Progressing"): ("no status", "pending", "executing"),
    ("Task", "Degraded"): ("failed (message: the failure's)", "cancelled"),
    ("Assembly", "Healthy"): ("Ready True (valid)",),
    ("Assembly", "Progressing"): ("no status / not observed",),
    ("Assembly", "Degraded"): ("Stalled True",),
}


def conditions(obj: Body) -> dict[str, Mapping[str, Any]]:
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []}


def cond_is(kind: str, status: str, reason: str = "") -> Callable[[Body], bool]:
    def check(obj: Body) -> bool:
        found = conditions(obj).get(kind, {})
        return found.get("status") == status and (not reason or found.get("reason") == reason)
    return check


def message_of(kind: str) -> Callable[[Body], str]:
    return lambda obj: str(conditions(obj)[kind]["message"])


def failure_message(obj: Body) -> str:
    """The failure block, placed as the operator places it in the instance's Stalled message."""
    failure = obj["status"]["failure"]
    return f"step {failure['index']} on {failure['node']}: {failure['message']}"


def observed(obj: Body) -> bool:
    return "status" in obj and obj["status"].get("observedGeneration") == obj["metadata"].get("generation")


def no_status(obj: Body) -> bool:
    return "status" not in obj


def not_observed(obj: Body) -> bool:
    return "status" in obj and not observed(obj)


def state_is(state: str) -> Callable[[Body], bool]:
    return lambda obj: (obj.get("status") or {}).get("state") == state


def both(*checks: Callable[[Body], bool]) -> Callable[[Body], bool]:
    return lambda obj: all(check(obj) for check in checks)


@dataclass(frozen=True)
class Row:
    kind: str
    health: str
    clause: str  # one of SPEC_TABLE[(kind, health)]
    fixture: str  # testdata/<fixture>.yaml
    holds: Callable[[Body], bool]
    message: Callable[[Body], str] | None  # None: the script's own words (there is nothing to quote)
    kstatus: str

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.fixture}"


SI, TASK, ASM = "ServiceInstance", "Task", "Assembly"
ROWS: tuple[Row, ...] = (
    Row(SI, "Healthy", "Ready True and observedGeneration == generation", "ready",
        both(observed, cond_is("Ready", "True")), message_of("Ready"), "Current"),
    Row(SI, "Progressing", "no status", "no-status", no_status, None, "Current"),
    Row(SI, "Progressing", "generation not observed", "generation-not-observed", not_observed, None, "InProgress"),
    Row(SI, "Progressing", "Reconciling True", "reconciling",
        both(observed, cond_is("Reconciling", "True")), message_of("Reconciling"), "InProgress"),
    Row(SI, "Progressing", "no converge Task yet (`NotDeployed`)", "not-deployed",
        both(observed, cond_is("Ready", "False", "NotDeployed")), message_of("Ready"), "Current"),
    Row(SI, "Degraded", "Stalled True (message: its message)", "stalled-assembly-not-found",
        both(observed, cond_is("Stalled", "True", "AssemblyNotFound")), message_of("Stalled"), "Failed"),
    Row(SI, "Degraded", "Stalled True (message: its message)", "stalled-invalid-spec",
        both(observed, cond_is("Stalled", "True", "InvalidSpec")), message_of("Stalled"), "Failed"),
    Row(SI, "Degraded", "Stalled True (message: its message)", "stalled-task-failed",
        both(observed, cond_is("Stalled", "True", "TaskFailed")), message_of("Stalled"), "Failed"),
    Row(SI, "Degraded", "Stalled True (message: its message)", "stalled-task-cancelled",
        both(observed, cond_is("Stalled", "True", "TaskCancelled")), message_of("Stalled"), "Failed"),
    Row(SI, "Suspended", "powered off (reason `Stopped`)", "stopped",
        both(observed, cond_is("Ready", "False", "Stopped"), cond_is("Stalled", "False")), message_of("Ready"),
        "Current"),
    # The stop cancelled the converge that ran, so Stalled is True too: the stop wins (health.lua
    # says why); kstatus reads only Stalled and says Failed.
    Row(SI, "Suspended", "powered off (reason `Stopped`)", "stopped-while-running",
        both(observed, cond_is("Ready", "False", "Stopped"), cond_is("Stalled", "True", "TaskCancelled")),
        message_of("Ready"), "Failed"),
    Row(SI, "Suspended", "staged (`Staged`)", "staged",
        both(observed, cond_is("Ready", "False", "Staged")), message_of("Ready"), "Current"),
    # A Task's conditions carry its status.message, empty unless it waits or failed: the script says it.
    Row(TASK, "Healthy", "succeeded", "succeeded", state_is("succeeded"), None, "Current"),
    Row(TASK, "Progressing", "no status", "no-status", no_status, None, "Current"),
    Row(TASK, "Progressing", "pending", "pending", state_is("pending"), message_of("Completed"), "Current"),
    Row(TASK, "Progressing", "executing", "executing", state_is("executing"), None, "Current"),
    Row(TASK, "Degraded", "failed (message: the failure's)", "failed", state_is("failed"), failure_message,
        "Current"),
    # InProgress, not Current: the cancel bumped metadata.generation (spec.cancel) and the operator's
    # last write still carries the generation the run started with (an operator defect, reported).
    Row(TASK, "Degraded", "cancelled", "cancelled", state_is("cancelled"), None, "Current"),
    Row(ASM, "Healthy", "Ready True (valid)", "valid", both(observed, cond_is("Ready", "True", "Valid")),
        message_of("Ready"), "Current"),
    Row(ASM, "Progressing", "no status / not observed", "no-status", no_status, None, "Current"),
    Row(ASM, "Progressing", "no status / not observed", "not-observed", not_observed, None, "InProgress"),
    Row(ASM, "Degraded", "Stalled True", "invalid", both(observed, cond_is("Stalled", "True", "InvalidSpec")),
        message_of("Stalled"), "Failed"),
)
