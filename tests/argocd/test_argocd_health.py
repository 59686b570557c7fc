"""Every case of every health_test.yaml, run as Argo CD runs it (argocd_lua.py), in a real Lua 5.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argocd_lua import GROUP_DIR, INVALID_STATUS_MESSAGE, KINDS, Health, health_of, load_yaml, parse_yaml, run_health


def cases() -> list[tuple[str, str, Path, Health]]:
    """(kind, inputPath, the object's file, the expected health) for every test in Argo CD's format."""
    found = []
    for kind in KINDS:
        folder = GROUP_DIR / kind
        for test in load_yaml(folder / "health_test.yaml")["tests"]:
            expected = test["healthStatus"]
            found.append((kind, test["inputPath"], folder / test["inputPath"],
                          Health(expected["status"], expected.get("message", ""))))
    return found


CASES = cases()


@pytest.mark.parametrize("restricted", [True, False], ids=["argocd-cm", "open-libs"])
@pytest.mark.parametrize(("kind", "input_path", "path", "expected"), CASES,
                         ids=[f"{kind}/{input_path}" for kind, input_path, _, _ in CASES])
def test_health_test_yaml_case(kind: str, input_path: str, path: Path, expected: Health, restricted: bool) -> None:
    """As an argocd-cm script (no string/math/os library) and as a built-in one (open libraries)."""
    assert health_of(kind, load_yaml(path), restricted=restricted) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_every_testdata_file_is_a_case_and_every_case_a_file(kind: str) -> None:
    listed = {input_path for k, input_path, _, _ in CASES if k == kind}
    on_disk = {f"testdata/{p.name}" for p in (GROUP_DIR / kind / "testdata").glob("*.yaml")}
    assert listed == on_disk


@pytest.mark.parametrize("kind", KINDS)
def test_messages_are_never_empty(kind: str) -> None:
    """Argo CD shows the message beside the status: every case says something."""
    assert all(expected.message for k, _, _, expected in CASES if k == kind)


def test_the_layout_is_argo_cds_resource_customizations() -> None:
    """<group>/<Kind>/health.lua beside health_test.yaml and testdata/, as upstream keeps them."""
    for kind in KINDS:
        folder = GROUP_DIR / kind
        assert {p.name for p in folder.iterdir()} == {"health.lua", "health_test.yaml", "testdata"}


# The harness itself: it must behave as Argo CD's gopher-lua embedding does, or the cases above prove little.

def test_arrays_are_one_based_and_nulls_in_them_are_skipped() -> None:
    obj: dict[str, Any] = {"status": {"conditions": [None, {"type": "Ready"}, None, {"type": "Stalled"}]}}
    script = 'return {status = "Healthy", message = #obj.status.conditions .. " " .. obj.status.conditions[2].type}'
    assert run_health(script, obj) == Health("Healthy", "2 Stalled")


def test_a_null_field_reads_nil_and_integers_are_lua_numbers() -> None:
    script = ('return {status = "Healthy", message = tostring(obj.status.observedGeneration == 3) .. " "'
              ' .. tostring(obj.status.message)}')
    assert run_health(script, {"status": {"observedGeneration": 3, "message": None}}) == Health("Healthy", "true nil")


def test_argocd_cm_scripts_get_no_string_library() -> None:
    from lupa.lua51 import LuaError  # type: ignore[import-untyped]

    with pytest.raises(LuaError, match="string"):
        run_health('return {status = string.upper("healthy")}', {})
    with pytest.raises(LuaError):
        run_health('local s = "healthy"; return {status = s:upper()}', {})
    assert run_health('return {status = "Healthy", message = string.upper("ok")}', {}, restricted=False) == Health(
        "Healthy", "OK")


def test_a_status_argo_cd_does_not_know_becomes_unknown() -> None:
    assert run_health('return {status = "Fine"}', {}) == Health("Unknown", INVALID_STATUS_MESSAGE)


def test_a_script_must_return_a_table() -> None:
    with pytest.raises(TypeError, match="table"):
        run_health('return "Healthy"', {})


def test_timestamps_stay_strings_as_through_json() -> None:
    assert parse_yaml("t: 2026-11-26T13:55:48Z\nn: 3\nb: true") == {"t": "2026-11-26T13:55:48Z", "n": 3, "b": True}
