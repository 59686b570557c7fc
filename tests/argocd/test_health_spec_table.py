"""SPEC section 6's table, row by row: the captured object is in the row's state, and Argo CD's
health check (run in Lua 5.1 as argocd-cm runs it) gives the row's health and message."""

from __future__ import annotations

import pytest
from argocd_lua import GROUP_DIR, health_of, load_yaml
from health_table import ROWS, SPEC_TABLE, Row


@pytest.mark.parametrize(("kind", "health", "clause"),
                         [(kind, health, clause) for (kind, health), clauses in SPEC_TABLE.items()
                          for clause in clauses])
def test_every_clause_of_the_spec_table_has_a_captured_object(kind: str, health: str, clause: str) -> None:
    assert [r for r in ROWS if (r.kind, r.health, r.clause) == (kind, health, clause)]


def test_every_row_quotes_a_clause_of_the_spec_table() -> None:
    assert all(r.clause in SPEC_TABLE[(r.kind, r.health)] for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_row(row: Row) -> None:
    obj = load_yaml(GROUP_DIR / row.kind / "testdata" / f"{row.fixture}.yaml")
    assert obj["kind"] == row.kind
    assert row.holds(obj), f"testdata/{row.fixture}.yaml is not in the state '{row.clause}'"
    health = health_of(row.kind, obj)
    assert health.status == row.health
    if row.message is not None:
        assert health.message == row.message(obj) != ""


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_health_test_yaml_expects_the_rows_health(row: Row) -> None:
    tests = load_yaml(GROUP_DIR / row.kind / "health_test.yaml")["tests"]
    expected = [t["healthStatus"]["status"] for t in tests if t["inputPath"] == f"testdata/{row.fixture}.yaml"]
    assert expected == [row.health]
