"""plugins/dtk.yaml, krew's manifest for `kubectl dtk`, checked the way krew validates a plugin
manifest before installing it (krew's pkg/index/validation: ValidatePlugin, validatePlatform,
validateSelector), plus what only this project knows: the version is pyproject's, and the URI
names the archive `make plugin-archive` builds for that version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "plugins" / "dtk.yaml"
SAFE_NAME = re.compile(r"^[\w-]+$")
SHA256 = re.compile(r"^[a-f0-9]{64}$")
# krew's semver: a leading "v", then MAJOR.MINOR.PATCH with optional pre-release and build parts
SEMVER = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def krew_problems(name: str, plugin: dict[str, Any]) -> list[str]:
    """What krew would refuse in the manifest of plugin `name` (empty: accepted)."""
    spec = plugin.get("spec") or {}
    problems = []
    if plugin.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        problems.append(f"apiVersion {plugin.get('apiVersion')!r} not supported")
    if plugin.get("kind") != "Plugin":
        problems.append(f"kind {plugin.get('kind')!r} is not Plugin")
    if not SAFE_NAME.match(name) or name.upper() in {"CON", "PRN", "AUX", "NUL"}:
        problems.append(f"plugin name {name!r} not allowed")
    if (plugin.get("metadata") or {}).get("name") != name:
        problems.append(f"plugin should be named {name!r}")
    if not spec.get("shortDescription"):
        problems.append("should have a short description")
    if not SEMVER.match(str(spec.get("version", ""))):
        problems.append(f"version {spec.get('version')!r} is not krew's semver (v1.2.3)")
    if not spec.get("platforms"):
        problems.append("should have a platform specified")
    for platform in spec.get("platforms") or []:
        problems += [f"platform: {p}" for p in _platform_problems(platform)]
    return problems


def _platform_problems(platform: dict[str, Any]) -> list[str]:
    problems = [f"{key} has to be set" for key in ("uri", "sha256", "bin") if not platform.get(key)]
    if platform.get("sha256") and not SHA256.match(str(platform["sha256"])):
        problems.append("sha256 is not 64 lower-case hex digits")
    if not platform.get("files"):
        problems.append("no file operations")
    selector = platform.get("selector") or {}
    keys = list(selector.get("matchLabels") or {}) + [e.get("key") for e in selector.get("matchExpressions") or []]
    if not keys:
        problems.append("empty selector")
    problems += [f"selector key {key!r} not supported" for key in keys if key not in ("os", "arch")]
    return problems


def manifest() -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return body


def test_krew_accepts_the_manifest() -> None:
    assert krew_problems(MANIFEST.stem, manifest()) == []


def test_the_check_refuses_what_krew_refuses() -> None:
    """The check above is not a formality: each of these is one of krew's refusals."""
    good = manifest()
    platform = good["spec"]["platforms"][0]
    broken = {
        "renamed": {**good, "metadata": {"name": "kubectl-dtk"}},
        "unversioned": {**good, "spec": {**good["spec"], "version": "0.1.0"}},
        "bad sha": {**good, "spec": {**good["spec"], "platforms": [{**platform, "sha256": "abc"}]}},
        "no bin": {**good, "spec": {**good["spec"], "platforms": [{**platform, "bin": ""}]}},
        "odd selector": {**good, "spec": {**good["spec"], "platforms": [{**platform, "selector": {
            "matchLabels": {"distro": "debian"}}}]}},
    }
    for what, plugin in broken.items():
        assert krew_problems("dtk", plugin), what


def test_the_manifest_is_of_this_version_and_installs_both_executables() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    spec = manifest()["spec"]
    assert spec["version"] == f"v{version}"
    for platform in spec["platforms"]:
        assert platform["uri"].endswith(f"/v{version}/kubectl-dtk-v{version}.tar.gz")
        assert platform["bin"] == "kubectl-dtk"
        assert {f["from"] for f in platform["files"]} == {"kubectl-dtk", "kubectl_complete-dtk"}
