"""The committed testdata still shows what today's operator writes: the capture runs again (a real
operator against the API server, about 10 s) and what the health checks and kstatus read of each
object must equal what the committed file holds. Regenerate with tests/argocd/capture.py."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from argocd_lua import health_of, load_yaml
from capture_states import EXPECTED_NAMES, fixture_path, run, session

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

READ_CONDITIONS = ("Ready", "Reconciling", "Stalled", "Completed", "Succeeded")


def what_the_checks_read(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Every field health.lua or kstatus looks at; timestamps, steps and node facts left out."""
    meta, status = obj.get("metadata") or {}, obj.get("status")
    view: dict[str, Any] = {"kind": obj.get("kind"), "generation": meta.get("generation"),
                            "deleting": "deletionTimestamp" in meta, "has status": status is not None}
    if status is not None:
        found = status.get("conditions") or []
        view.update({
            "observedGeneration": status.get("observedGeneration"),
            "state": status.get("state"),
            "progress": status.get("progress"),
            "failure message": (status.get("failure") or {}).get("message"),
            "condition order": [c["type"] for c in found],
            "conditions": {c["type"]: (c["status"], c["reason"], c["message"])
                           for c in found if c["type"] in READ_CONDITIONS},
        })
    return view


def test_the_committed_testdata_is_what_the_operator_writes_today(tmp_path: Path) -> None:
    with session(tmp_path) as s:
        captured = run(s)
    assert sorted(captured) == sorted(EXPECTED_NAMES)
    for name, fresh in sorted(captured.items()):
        committed = load_yaml(fixture_path(name))
        stale = f"{fixture_path(name)} is stale: check the change, then run tests/argocd/capture.py"
        assert what_the_checks_read(fresh) == what_the_checks_read(committed), stale
        kind = name.split("/")[0]
        assert health_of(kind, fresh) == health_of(kind, committed), stale
