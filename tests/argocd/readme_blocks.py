"""The YAML blocks of helm/dtk-operator/argocd/README.md, so tests run what the README shows."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml
from argocd_lua import ARGOCD_DIR

README = ARGOCD_DIR / "README.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def block_with(marker: str) -> Any:
    """The one YAML block containing `marker`, parsed (indented fragments are dedented first)."""
    found = [b for b in yaml_blocks() if marker in b]
    if len(found) != 1:
        raise AssertionError(f"{README} has {len(found)} yaml blocks with {marker!r}, not one")
    return yaml.safe_load(textwrap.dedent(found[0]))
