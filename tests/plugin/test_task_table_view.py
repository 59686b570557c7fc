"""`kubectl dtk task-status` snapshot: the seed tables byte for byte, the legend, `-s`."""

# ruff: noqa: E501  (golden lines are the seeds' own, up to 131 characters wide, kept verbatim)

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from seed_task import clock, seed_task, with_failure

from dtk_api.task_status import Step, TaskStatus
from kubectl_dtk.views.table import render_task_table
from kubectl_dtk.views.times import table_time

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

# Seed 000, the first `task-status` sample, verbatim: the task in the middle of stage 5.
EXECUTING_TABLE = """\
+----------------------------------+-----------+---------------+----------+-------------------+-------------------+
| TASK TYPE                        | STATUS    | NODE          | DURATION | STARTED AT        | ENDED AT          |
+----------------------------------+-----------+---------------+----------+-------------------+-------------------+
| assembly_converge                | executing |               |          | 17:16:55 26/11/15 |                   |
|   1 create_nodes_stage           | succeeded |               | 83.8s    | 17:16:55 26/11/15 | 17:18:18 26/11/15 |
|     1.1 create_node              | succeeded | master        | 82.0s    | 17:16:55 26/11/15 | 17:18:17 26/11/15 |
|     1.2 create_node              | succeeded | slaves:1      | 83.8s    | 17:16:55 26/11/15 | 17:18:18 26/11/15 |
|     1.3 create_node              | succeeded | slaves:2      | 82.8s    | 17:16:55 26/11/15 | 17:18:17 26/11/15 |
|   2 bigtop_multiservice          | succeeded |               | 0.0s     | 17:18:19 26/11/15 | 17:18:19 26/11/15 |
|     2.1 configure_node           | succeeded | assembly_wide | 0.0s     | 17:18:19 26/11/15 | 17:18:19 26/11/15 |
|   3 bigtop hiera                 | succeeded |               | 5.4s     | 17:18:29 26/11/15 | 17:18:35 26/11/15 |
|     3.1 configure_nodegroup      | succeeded | slaves        | 5.3s     | 17:18:29 26/11/15 | 17:18:35 26/11/15 |
|       3.1.1 configure_node       | succeeded | slaves:1      | 3.4s     | 17:18:29 26/11/15 | 17:18:33 26/11/15 |
|       3.1.2 configure_node       | succeeded | slaves:2      | 3.1s     | 17:18:31 26/11/15 | 17:18:35 26/11/15 |
|     3.2 configure_node           | succeeded | master        | 3.3s     | 17:18:29 26/11/15 | 17:18:32 26/11/15 |
|   4 bigtop_base                  | succeeded |               | 5.8s     | 17:18:35 26/11/15 | 17:18:41 26/11/15 |
|     4.1 configure_nodegroup      | succeeded | slaves        | 5.5s     | 17:18:35 26/11/15 | 17:18:41 26/11/15 |
|       4.1.1 configure_node       | succeeded | slaves:1      | 5.3s     | 17:18:35 26/11/15 | 17:18:40 26/11/15 |
|       4.1.2 configure_node       | succeeded | slaves:2      | 5.3s     | 17:18:35 26/11/15 | 17:18:41 26/11/15 |
|     4.2 configure_node           | succeeded | master        | 5.3s     | 17:18:35 26/11/15 | 17:18:40 26/11/15 |
|   5 namenode                     | executing |               |          | 17:18:41 26/11/15 |                   |
|     5.1 configure_node           | executing | master        |          | 17:18:41 26/11/15 |                   |
|   6 if needed leave safemode     |           |               |          |                   |                   |
|     6.1 action                   |           | master        |          |                   |                   |
|   7 namenode smoke test          |           |               |          |                   |                   |
|     7.1 action                   |           | master        |          |                   |                   |
|   8 datanodes                    |           |               |          |                   |                   |
|     8.1 configure_nodegroup      |           | slaves        |          |                   |                   |
|       8.1.1 configure_node       |           | slaves:1      |          |                   |                   |
|       8.1.2 configure_node       |           | slaves:2      |          |                   |                   |
|   9 hdfs directories for spark   |           |               |          |                   |                   |
|     9.1 configure_node           |           | master        |          |                   |                   |
|   10 spark master                |           |               |          |                   |                   |
|     10.1 configure_node          |           | master        |          |                   |                   |
|   11 spark workers               |           |               |          |                   |                   |
|     11.1 configure_nodegroup     |           | slaves        |          |                   |                   |
|       11.1.1 configure_node      |           | slaves:1      |          |                   |                   |
|       11.1.2 configure_node      |           | slaves:2      |          |                   |                   |
|   12 component gitarchive[mar01] |           |               |          |                   |                   |
|     12.1 configure_node          |           | master        |          |                   |                   |
+----------------------------------+-----------+---------------+----------+-------------------+-------------------+
37 rows in set
"""

# Seed 001, "Checking Task Completion", verbatim: the finished task; the seed cuts it after 3.1.2.
# Its TASK TYPE column is as wide as `  12 component gitarchive[mar01]`, so it is the 37-row task.
FINISHED_TABLE_HEAD = """\
+----------------------------------+-----------+---------------+----------+-------------------+-------------------+
| TASK TYPE                        | STATUS    | NODE          | DURATION | STARTED AT        | ENDED AT          |
+----------------------------------+-----------+---------------+----------+-------------------+-------------------+
| assembly_converge                | succeeded |               | 318.6s   | 17:16:55 26/11/15 | 17:22:13 26/11/15 |
|   1 create_nodes_stage           | succeeded |               | 83.8s    | 17:16:55 26/11/15 | 17:18:18 26/11/15 |
|     1.1 create_node              | succeeded | master        | 82.0s    | 17:16:55 26/11/15 | 17:18:17 26/11/15 |
|     1.2 create_node              | succeeded | slaves:1      | 83.8s    | 17:16:55 26/11/15 | 17:18:18 26/11/15 |
|     1.3 create_node              | succeeded | slaves:2      | 82.8s    | 17:16:55 26/11/15 | 17:18:17 26/11/15 |
|   2 bigtop_multiservice          | succeeded |               | 0.0s     | 17:18:19 26/11/15 | 17:18:19 26/11/15 |
|     2.1 configure_node           | succeeded | assembly_wide | 0.0s     | 17:18:19 26/11/15 | 17:18:19 26/11/15 |
|   3 bigtop hiera                 | succeeded |               | 5.4s     | 17:18:29 26/11/15 | 17:18:35 26/11/15 |
|     3.1 configure_nodegroup      | succeeded | slaves        | 5.3s     | 17:18:29 26/11/15 | 17:18:35 26/11/15 |
|       3.1.1 configure_node       | succeeded | slaves:1      | 3.4s     | 17:18:29 26/11/15 | 17:18:33 26/11/15 |
|       3.1.2 configure_node       | succeeded | slaves:2      | 3.1s     | 17:18:31 26/11/15 | 17:18:35 26/11/15 |
"""

MID_STAGE_5 = clock("17:19:00.000")
NAMENODE_ERROR = "Component hadoop::namenode: namenode did not start"
HIERA_ERROR = "Component bigtop_multiservice::hiera: hiera.yaml is empty"


def read_seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"seed {prefix} not available at {SEEDS}")
    return found[0].read_text()


def cells(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("|")[1:-1]] for line in table.splitlines() if line.startswith("|")]


def test_goldens_are_verbatim_from_the_seeds() -> None:
    assert EXECUTING_TABLE in read_seed("000")
    assert FINISHED_TABLE_HEAD + "...\n" in read_seed("001")


def test_executing_task_is_seed_000_table() -> None:
    assert render_task_table(seed_task(MID_STAGE_5)) == EXECUTING_TABLE


def test_finished_task_is_seed_001_table() -> None:
    rendered = render_task_table(seed_task())
    assert rendered.startswith(FINISHED_TABLE_HEAD)
    assert rendered.endswith("+\n37 rows in set\n")
    assert "| succeeded |" in rendered and "|           |" not in rendered  # every row has ended


def test_without_the_added_component_it_is_seed_001_executing_table() -> None:
    # Seed 001's 35-row sample is seed 000's minus stage 12 (its padding still fits stage 12's
    # label, which is why only the cells are compared here).
    rendered = render_task_table(seed_task(MID_STAGE_5, gitarchive=False))
    assert cells(rendered) == cells(EXECUTING_TABLE)[:-2]
    assert rendered.endswith("\n35 rows in set\n")


def test_a_failed_row_is_explained_in_the_error_legend() -> None:
    failed = with_failure(seed_task(clock("17:19:26.600")), "5.1", NAMENODE_ERROR)
    rendered = render_task_table(failed)
    assert "| assembly_converge                | failed    |               | 151.5s   |" in rendered
    assert "|     5.1 configure_node           | failed    | master        | 45.5s    |" in rendered
    assert "|   6 if needed leave safemode     |           |" in rendered
    assert rendered.endswith(
        "+\n37 rows in set\n\nERRORS:\n\n[ 5.1 ] [USER ERROR] Component hadoop::namenode: namenode did not start\n"
    )
    assert "\x1b" not in rendered


def test_legend_is_coloured_only_when_asked() -> None:
    failed = with_failure(seed_task(clock("17:19:26.600")), "5.1", NAMENODE_ERROR, error_type="server")
    legend_line = render_task_table(failed, color=True).splitlines()[-1]
    assert legend_line == f"\x1b[33m[ 5.1 ]\x1b[0m \x1b[31m[SERVER ERROR] {NAMENODE_ERROR}\x1b[0m"


def test_no_legend_without_errors() -> None:
    assert "ERRORS" not in render_task_table(seed_task())


SUMMARIZED_STAGE_3 = """\
|   3 bigtop hiera                 | executing                 |               |          | 17:18:29 26/11/15 |                   |
|     3.1 configure_nodegroup      | executing(1),succeeded(1) | slaves        |          | 17:18:29 26/11/15 |                   |
|     3.2 configure_node           | succeeded                 | master        | 3.3s     | 17:18:29 26/11/15 | 17:18:32 26/11/15 |
|   4 bigtop_base                  |                           |               |          |                   |                   |
|     4.1 configure_nodegroup      |                           | slaves        |          |                   |                   |
|     4.2 configure_node           |                           | master        |          |                   |                   |
"""


def test_summarize_folds_members_into_the_group_row() -> None:
    rendered = render_task_table(seed_task(clock("17:18:34.000")), summarize=True)
    assert SUMMARIZED_STAGE_3 in rendered
    assert "slaves:1" in rendered  # create_node rows are not a group: they stay
    assert "3.1.1" not in rendered and "11.1.2" not in rendered
    assert rendered.endswith("\n29 rows in set\n")  # 37 rows less 2 members of 4 groups


def test_summarize_counts_a_finished_group() -> None:
    rendered = render_task_table(seed_task(), summarize=True)
    assert "|     8.1 configure_nodegroup      | succeeded(2) | slaves        | 33.0s    |" in rendered


def test_summarize_puts_member_errors_once_on_the_group_row() -> None:
    task = seed_task(clock("17:18:35.100"))
    failed = with_failure(with_failure(task, "3.1.1", HIERA_ERROR), "3.1.2", HIERA_ERROR)
    assert render_task_table(failed).endswith(
        f"ERRORS:\n\n[ 3.1.1 ] [USER ERROR] {HIERA_ERROR}\n[ 3.1.2 ] [USER ERROR] {HIERA_ERROR}\n"
    )
    summarized = render_task_table(failed, summarize=True)
    assert "|     3.1 configure_nodegroup      | failed(2) | slaves        | 5.3s     |" in summarized
    assert summarized.endswith(f"\n29 rows in set\n\nERRORS:\n\n[ 3.1 ] [USER ERROR] {HIERA_ERROR}\n")


def test_no_headers_prints_only_the_rows() -> None:
    rendered = render_task_table(seed_task(MID_STAGE_5), no_headers=True)
    assert cells(rendered) == cells(EXECUTING_TABLE)[1:]  # the same rows, without the header
    assert len(rendered.splitlines()) == 37  # no border, no footer
    assert rendered.splitlines()[0] == "| assembly_converge                | executing |               |       | 17:16:55 26/11/15 |                   |"


def test_times_are_shown_in_utc_truncated_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    assert table_time(datetime(2015, 11, 26, 18, 16, 55, 999000, tzinfo=paris)) == "17:16:55 26/11/15"
    assert table_time(datetime(2015, 11, 26, 17, 16, 55)) == "17:16:55 26/11/15"  # naive: UTC


def test_a_task_of_one_row_says_1_row_in_set() -> None:
    pending = TaskStatus(steps=(Step(index="", kind="task", name="assembly_converge"),))
    assert render_task_table(pending) == (
        "+-------------------+--------+------+----------+------------+----------+\n"
        "| TASK TYPE         | STATUS | NODE | DURATION | STARTED AT | ENDED AT |\n"
        "+-------------------+--------+------+----------+------------+----------+\n"
        "| assembly_converge |        |      |          |            |          |\n"
        "+-------------------+--------+------+----------+------------+----------+\n"
        "1 row in set\n"
    )
