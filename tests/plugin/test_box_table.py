"""The generic DTK box every plugin table uses (`ls`, `list-assemblies`, `list-tasks`, ...)."""



from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_dtk.views.box import render_box_table
from plugin.seed_listings import LIST_ASSEMBLIES
from plugin.seed_listings import LS_DEPLOYING as LS

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

LS_HEADERS = ["id", "assembly name", "status", "last run", "assembly template", "target", "# nodes", "created at"]
LS_ROW = ["2147491171", "spark-cluster1", "running", "executing", "bigtop:spark/assembly/cluster",
          "vpc-us-east-1", "3", "02:03:51 26/11/15"]


def test_goldens_are_verbatim_from_the_seeds() -> None:
    found = sorted(SEEDS.glob("001_*.txt"))
    if not found:
        pytest.skip(f"seed 001 not available at {SEEDS}")
    seed = found[0].read_text()
    assert LIST_ASSEMBLIES in seed and LS in seed


def test_one_row_says_row_in_set() -> None:
    headers = ["ID", "ASSEMBLY NAME", "NODES", "DESCRIPTION"]
    assert render_box_table(headers, [["2147491121", "cluster", "3", "spark cluster"]]) == LIST_ASSEMBLIES


def test_headers_are_upper_cased_and_columns_fit_the_widest_cell() -> None:
    assert render_box_table(LS_HEADERS, [LS_ROW]) == LS


def test_several_rows_say_rows_in_set() -> None:
    rendered = render_box_table(["name"], [["a"], ["bb"]])
    assert rendered == "+------+\n| NAME |\n+------+\n| a    |\n| bb   |\n+------+\n2 rows in set\n"


def test_an_empty_table_is_only_its_footer() -> None:
    assert render_box_table(["ID", "NAME"], []) == "0 rows in set\n"


def test_no_headers_keeps_only_data_lines_fitted_to_the_data() -> None:
    rendered = render_box_table(["description"], [["a"], ["bb"]], no_headers=True)
    assert rendered == "| a  |\n| bb |\n"
    assert render_box_table(["ID"], [], no_headers=True) == ""


def test_line_breaks_inside_a_cell_do_not_break_the_box() -> None:
    rendered = render_box_table(["message"], [["first\nsecond\tx"]])
    assert "| first\\nsecond\\tx |" in rendered
    assert len(rendered.splitlines()) == 6
