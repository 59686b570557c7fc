"""The README's snippets are what the tests run: the argocd-cm scripts are the files' exact text."""

from __future__ import annotations

import re

import pytest
from argocd_lua import KINDS, script_path
from health_table import ROWS
from readme_blocks import README, block_with


@pytest.mark.parametrize("kind", KINDS)
def test_the_argocd_cm_snippet_is_the_script(kind: str) -> None:
    data = block_with("kind: ConfigMap")["data"]
    assert data[f"resource.customizations.health.dtk.io_{kind}"] == script_path(kind).read_text(encoding="utf-8")


def test_the_argocd_cm_snippet_has_nothing_else() -> None:
    config = block_with("kind: ConfigMap")
    assert config["metadata"]["name"] == "argocd-cm"
    assert sorted(config["data"]) == sorted(f"resource.customizations.health.dtk.io_{k}" for k in KINDS)


def test_the_flux_kustomization_waits() -> None:
    kustomization = block_with("kind: Kustomization")
    assert kustomization["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert kustomization["spec"]["wait"] is True


def test_the_readme_table_says_what_the_tests_prove() -> None:
    """Each row of "What each state shows": the fixture it names, its Argo CD health and kstatus."""
    table = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        fixture = re.search(r"\(`([a-z-]+)`\)", cells[1]) if len(cells) == 5 else None
        if fixture:
            table[f"{cells[0]}/{fixture.group(1)}"] = (cells[2], cells[4].split(" ")[0].strip("*"))
    assert table == {r.id: (r.health, r.kstatus) for r in ROWS}
