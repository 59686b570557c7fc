"""docs/reference.md stays true to the CRDs and to the code it documents.

Its custom-resource tables are generated from crds/*.yaml by tools/gen_reference.py (`make
reference`); these tests fail when a CRD changed and the document was not regenerated, when a
schema field has no row or no description, and when the hand-written sections miss a condition
reason, a template variable or an exit code that the code has.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from dtk_api import conditions, templating
from dtk_operator.engine import trouble
from kubectl_dtk import exit_codes

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"
GENERATOR = ROOT / "tools" / "gen_reference.py"
REGENERATE = "make reference"


@functools.cache
def _generator() -> ModuleType:
    """tools/ is not on the path (it is no package): load the script as a module, once."""
    spec = importlib.util.spec_from_file_location("gen_reference", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while being built
    spec.loader.exec_module(module)
    return module


def _crds() -> list[dict[str, Any]]:
    crds = []
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        with path.open() as stream:
            crds += [doc for doc in yaml.safe_load_all(stream) if doc]
    return crds


def _schema_paths(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every field of a schema, walked here independently of the generator: `[]` for list items,
    `.<key>` for map values."""
    if path:
        yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        yield from _schema_paths(child, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), Mapping):
        yield from _schema_paths(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), Mapping):
        yield from _schema_paths(schema["additionalProperties"], f"{path}.<key>")


def _root(crd: Mapping[str, Any]) -> Mapping[str, Any]:
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def _section(text: str, kind: str) -> str:
    """The generated part of one kind: from its `### Kind` heading to the next heading."""
    start = text.index(f"\n### {kind}\n", text.index("<!-- BEGIN GENERATED"))
    ends = [i for i in (text.find("\n### ", start + 1), text.find("\n<!-- END", start + 1)) if i > 0]
    return text[start:min(ends)]


def test_the_reference_is_what_the_generator_makes_of_the_crds() -> None:
    current = REFERENCE.read_text()
    wanted = _generator().render_document(current)
    assert current == wanted, (f"docs/reference.md is out of date with crds/*.yaml: run `{REGENERATE}` "
                               f"(or .venv/bin/python tools/gen_reference.py) and commit the result")


def test_check_mode_passes_now_and_fails_on_a_stale_copy_naming_the_command(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    stale = tmp_path / "reference.md"
    stale.write_text(REFERENCE.read_text().replace("| 0..5000 |", "| 0..50 |", 1))
    refused = subprocess.run([sys.executable, str(GENERATOR), "--check", "--output", str(stale)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert REGENERATE in refused.stderr and "0..50 |" in refused.stderr


def test_regenerating_keeps_the_hand_written_text(tmp_path: Path) -> None:
    mine = tmp_path / "reference.md"
    gen = _generator()
    mine.write_text(f"# Mine\n\nhand-written before\n\n{gen.BEGIN}\nstale\n{gen.END}\n\nhand-written after\n")
    done = subprocess.run([sys.executable, str(GENERATOR), "--output", str(mine)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    text = mine.read_text()
    assert text.startswith("# Mine\n\nhand-written before\n\n" + gen.BEGIN)
    assert text.endswith(gen.END + "\n\nhand-written after\n")
    assert "stale" not in text and "### ServiceInstance" in text


def test_every_field_of_every_crd_has_a_row_with_its_type_and_bounds() -> None:
    text = REFERENCE.read_text()
    missing: list[str] = []
    for crd in _crds():
        kind = crd["spec"]["names"]["kind"]
        rows = {line.split(" | ")[0].removeprefix("| `").removesuffix("`"): line
                for line in _section(text, kind).splitlines() if line.startswith("| `")}
        for path, schema in _schema_paths(_root(crd)):
            row = rows.get(path)
            if row is None:
                missing.append(f"{kind} {path}: no row")
                continue
            wanted = [str(schema[k]) for k in ("minimum", "maximum", "maxLength", "maxItems") if k in schema]
            wanted += [f"`{value}`" for value in schema.get("enum", ()) if value]
            wanted += [f"`{schema['default']}`"] if "default" in schema else []
            missing += [f"{kind} {path}: {w} not in its row" for w in wanted if w.lower() not in row.lower()]
    assert missing == []


def test_every_field_is_described_in_its_crd() -> None:
    """A field without a description would have an empty row; the root `metadata` is the one
    exception (the API server refuses a description there) and gets the generator's text."""
    missing = [f"{crd['spec']['names']['kind']} {path}" for crd in _crds() for path, schema in _schema_paths(_root(crd))
               if not schema.get("description") and path != "metadata"]
    assert missing == [], "add a `description:` to these fields in crds/*.yaml, then run `make reference`"


@pytest.mark.parametrize("keyword", ["x-kubernetes-int-or-string", "oneOf"])
def test_a_schema_keyword_the_generator_cannot_render_stops_it(tmp_path: Path, keyword: str) -> None:
    crd = _crds()[0]
    _root(crd)["properties"]["spec"]["properties"]["module"][keyword] = True
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "x.yaml").write_text(yaml.safe_dump(crd))
    out = tmp_path / "reference.md"
    gen = _generator()
    out.write_text(f"{gen.BEGIN}\n{gen.END}\n")
    done = subprocess.run([sys.executable, str(GENERATOR), "--crds", str(tmp_path / "crds"), "--output", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert keyword in done.stderr and "spec.module" in done.stderr


def test_every_condition_reason_is_documented() -> None:
    text = REFERENCE.read_text()
    reasons = {value for name, value in vars(conditions).items() if name.startswith("REASON_")}
    reasons |= {trouble.REASON_OPERATOR_ERROR, "CleanupAbandoned"}
    types = {conditions.READY, conditions.RECONCILING, conditions.STALLED, conditions.COMPLETED, conditions.SUCCEEDED}
    assert sorted(r for r in reasons | types if f"`{r}`" not in text) == []


def test_every_node_field_is_documented_as_a_variable() -> None:
    text = REFERENCE.read_text()
    for field in templating.NODE_FIELDS:
        assert f"`{{{{node.{field}}}}}`" in text
    assert "`{{component.title}}`" in text and "`{{nodes.<name>.<field>}}`" in text


def test_the_exit_code_table_lists_every_code_of_the_plugin() -> None:
    text = REFERENCE.read_text()
    table = text[text.index("## kubectl dtk exit codes"):text.index("## Conditions")]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    codes = {value for name, value in vars(exit_codes).items() if name.isupper() and isinstance(value, int)}
    assert documented == codes
