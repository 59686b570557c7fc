"""The README's `healthCheckExprs`, evaluated in Flux's order on every captured object: Flux then
agrees with Argo CD's reading (Healthy and Suspended: Current; Progressing: InProgress, or waiting
while there is no status to read; Degraded: Failed), except where noted."""

from __future__ import annotations

from typing import Any

import pytest
from argocd_lua import GROUP_DIR, load_yaml
from flux_cel import evaluate
from health_table import ROWS, Row
from readme_blocks import block_with

FROM_ARGO = {"Healthy": "Current", "Suspended": "Current", "Progressing": "InProgress", "Degraded": "Failed"}
EXCEPTIONS: dict[str, str] = {}  # none: every kind reads as Argo CD reads it


def exprs_for(kind: str) -> dict[str, Any]:
    entries = block_with("healthCheckExprs:")["healthCheckExprs"]
    found = [e for e in entries if e["kind"] == kind and e["apiVersion"] == "dtk.io/v1alpha1"]
    assert len(found) == 1
    return {k: v for k, v in found[0].items() if k in ("inProgress", "failed", "current")}


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_flux_with_the_readme_exprs(row: Row) -> None:
    obj = load_yaml(GROUP_DIR / row.kind / "testdata" / f"{row.fixture}.yaml")
    wanted = "Unknown" if "status" not in obj else EXCEPTIONS.get(row.id, FROM_ARGO[row.health])
    assert evaluate(exprs_for(row.kind), obj) == wanted


def test_an_expression_on_a_missing_field_is_unknown_not_false() -> None:
    assert evaluate({"current": "status.state == 'succeeded'"}, {"metadata": {"generation": 1}}) == "Unknown"
