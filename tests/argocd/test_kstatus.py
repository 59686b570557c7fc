"""What kstatus (so Flux's `wait: true` and `healthChecks`) makes of the same captured objects.

kstatus reads our conditions as they are; the operator adds nothing for it. The verdicts, and the
two places where they differ from Argo CD's (see helm/dtk-operator/argocd/README.md):
- an object with no status yet, and a Task in any state, is Current: kstatus reads only
  observedGeneration, Reconciling and Stalled, and a Task has neither condition;
- an instance with no converge Task (NotDeployed), stopped or staged is Current (Reconciling and
  Stalled are False); one stopped while its converge ran is Failed (the cancel stalls it).
"""

from __future__ import annotations

from typing import Any

import pytest
from argocd_lua import GROUP_DIR, load_yaml
from health_table import ROWS, Row
from kstatus import Result, compute


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_kstatus_on_the_captured_object(row: Row) -> None:
    obj = load_yaml(GROUP_DIR / row.kind / "testdata" / f"{row.fixture}.yaml")
    result = compute(obj)
    assert result.status == row.kstatus
    if result.status in ("InProgress", "Failed") and obj["metadata"]["generation"] == obj["status"].get(
            "observedGeneration"):
        wanted = "Reconciling" if result.status == "InProgress" else "Stalled"
        assert result.message == next(c["message"] for c in obj["status"]["conditions"] if c["type"] == wanted)


# The rules themselves (cli-utils pkg/kstatus/status generic.go and status.go), on made-up objects.

def si(generation: int = 2, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "ServiceInstance", "metadata": {"name": "x", "generation": generation}}
    if status:
        body["status"] = status
    return body


def cond(kind: str, status: str, message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": "R", "message": message}


def test_no_status_is_current() -> None:
    assert compute(si()) == Result("Current", "Resource is current")


def test_a_missing_observed_generation_skips_the_generation_check() -> None:
    assert compute(si(conditions=[cond("Stalled", "True", "bad")])) == Result("Failed", "bad")


def test_an_unobserved_generation_wins_over_the_conditions() -> None:
    assert compute(si(observedGeneration=1, conditions=[cond("Stalled", "True", "bad")])) == Result(
        "InProgress", "ServiceInstance generation is 2, but latest observed generation is 1")


def test_the_first_of_reconciling_and_stalled_in_list_order_decides() -> None:
    both = [cond("Ready", "False"), cond("Reconciling", "True", "busy"), cond("Stalled", "True", "bad")]
    assert compute(si(observedGeneration=2, conditions=both)) == Result("InProgress", "busy")
    assert compute(si(observedGeneration=2, conditions=both[::-1])) == Result("Failed", "bad")


def test_ready_is_not_read() -> None:
    assert compute(si(observedGeneration=2, conditions=[cond("Ready", "False", "not yet")])).status == "Current"


def test_deletion_is_terminating_before_anything_else() -> None:
    body = si(observedGeneration=1)
    body["metadata"]["deletionTimestamp"] = "2026-11-26T14:00:00Z"
    assert compute(body) == Result("Terminating", "Resource scheduled for deletion")
