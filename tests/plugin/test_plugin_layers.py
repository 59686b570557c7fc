"""The plugin's layers (pyproject's import-linter contracts) hold, and the check has teeth: a view
that imports a command, or one command family that imports another, fails `lint-imports`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def plugin_contracts() -> list[dict[str, object]]:
    linter = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return [c for c in linter["contracts"] if str(c["name"]).startswith("plugin ")]


def lint(copy: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the plugin's contracts over the copy of the package in `copy`."""
    lines = ["[tool.importlinter]", 'root_packages = ["kubectl_dtk"]']
    for contract in plugin_contracts():  # JSON's strings and arrays of strings are TOML's too
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in contract.items()]
    config = copy / "layers.toml"
    config.write_text("\n".join(lines) + "\n")
    return subprocess.run([str(LINT_IMPORTS), str(config), "--no-cache"], cwd=copy, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})


def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "kubectl-plugin" / "kubectl_dtk", tmp_path / "kubectl_dtk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def add_import(module: Path, line: str) -> None:
    future = "from __future__ import annotations\n"
    module.write_text(module.read_text().replace(future, f"{future}\n{line}\n", 1))


def test_the_plugin_keeps_its_layers(tmp_path: Path) -> None:
    assert len(plugin_contracts()) == 2
    kept = lint(package_copy(tmp_path))
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 2 kept, 0 broken." in kept.stdout


def test_a_view_that_imports_a_command_breaks_the_layers(tmp_path: Path) -> None:
    copy = package_copy(tmp_path)
    add_import(copy / "kubectl_dtk" / "views" / "box.py", "from kubectl_dtk.commands.tasks import ops  # noqa")
    broken = lint(copy)
    assert broken.returncode == 1
    assert "plugin layers: completion -> cli -> commands -> follow -> views -> api BROKEN" in broken.stdout
    assert "kubectl_dtk.views.box -> kubectl_dtk.commands.tasks.ops" in broken.stdout


def test_a_command_family_that_imports_another_breaks_their_independence(tmp_path: Path) -> None:
    copy = package_copy(tmp_path)
    add_import(copy / "kubectl_dtk" / "commands" / "describe" / "task.py",
               "from kubectl_dtk.commands.instances import rows  # noqa")
    broken = lint(copy)
    assert broken.returncode == 1
    assert "plugin command families are independent BROKEN" in broken.stdout
    assert "kubectl_dtk.commands.describe.task -> kubectl_dtk.commands.instances.rows" in broken.stdout
