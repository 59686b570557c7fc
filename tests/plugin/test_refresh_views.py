"""`task-status --wait`: the progress lines a CI log gets, the window a short terminal gets, and
the live frame rich draws, over the seed's Task at successive moments."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from rich.console import Console
from seed_task import clock, seed_task, with_failure

from dtk_api import task_wire
from dtk_api.task_status import TaskStatus
from kubectl_dtk.follow import refresh
from kubectl_dtk.views.box import render_box_table
from kubectl_dtk.views.live import Frame
from kubectl_dtk.views.live_progress import ProgressLines
from kubectl_dtk.views.live_window import fit_table, focus_row
from kubectl_dtk.views.model import TASK_TABLE_HEADERS, task_table

NOW = clock("17:30:00.000")


def test_joining_midway_says_where_the_run_is_then_each_stage_change() -> None:
    lines = ProgressLines("spark-cluster1-1")
    assert lines.feed(seed_task(clock("17:18:30.000")), NOW) == [
        "[17:30:00] task spark-cluster1-1: executing, 4/20 steps done, at 3 bigtop hiera",
    ]
    assert lines.feed(seed_task(clock("17:18:45.000")), NOW) == [
        "[17:18:35] 3 bigtop hiera: succeeded (5.4s)",
        "[17:18:41] 4 bigtop_base: succeeded (5.8s)",  # started and ended between two looks
        "[17:18:41] 5 namenode: executing",
    ]
    assert lines.feed(seed_task(clock("17:18:46.000")), NOW) == []  # nothing worth a line changed
    assert lines.heartbeat(NOW) == "[17:30:00] task spark-cluster1-1: still executing, 10/20 steps done, at 5 namenode"


def test_the_end_of_the_task_is_the_last_line() -> None:
    lines = ProgressLines("t")
    lines.feed(seed_task(clock("17:21:00.000")), NOW)
    assert lines.feed(seed_task(), NOW)[-3:] == [
        "[17:22:01] 11 spark workers: succeeded (70.4s)",
        "[17:22:13] 12 component gitarchive[mar01]: succeeded (11.7s)",
        "[17:22:13] assembly_converge: succeeded (318.6s)",
    ]


def test_a_failed_row_gets_its_own_line_at_any_depth() -> None:
    lines = ProgressLines("t")
    lines.feed(seed_task(clock("17:19:31.000")), NOW)
    failed = with_failure(seed_task(clock("17:19:32.900")), "7.1", "smoke test failed")
    assert lines.feed(failed, NOW) == [
        "[17:19:32] 7 namenode smoke test: failed (2.2s)",
        "[17:19:32] 7.1 action (master): failed (2.2s)",
        "[17:19:32] assembly_converge: failed (157.7s)",
    ]


def test_a_finished_task_at_first_sight_needs_no_progress_line() -> None:
    assert ProgressLines("t").feed(seed_task(), NOW) == []


def test_a_waiting_task_says_what_it_waits_for() -> None:
    waiting = replace(seed_task(clock("17:00:00.000")), state="pending", message="waiting for task a-1 to finish")
    lines = ProgressLines("a-2")
    assert lines.feed(waiting, NOW) == ["[17:30:00] task a-2: pending (waiting for task a-1 to finish)"]
    assert lines.heartbeat(NOW) == "[17:30:00] task a-2: still pending (waiting for task a-1 to finish)"


def test_a_task_that_ends_without_rows_still_gets_a_line() -> None:
    lines = ProgressLines("p-bad")
    lines.feed(TaskStatus(state="pending"), NOW)
    assert lines.feed(TaskStatus(state="failed", message="param 'name' is not valid"), NOW) == [
        "[17:30:00] task p-bad: failed",
    ]


def big_table(at: str) -> tuple[list[str], int]:
    """The 1,002-row Task (a 195-member group) at `at`: its box lines and where the run is."""
    table = task_table(seed_task(clock(at), slaves=195))
    lines = render_box_table(TASK_TABLE_HEADERS, [row.cells() for row in table.rows]).splitlines()
    return lines, focus_row([row.status for row in table.rows])


def test_a_table_taller_than_the_terminal_shows_a_window_around_the_run() -> None:
    lines, focus = big_table("17:19:40.000")  # the datanodes stage, group members running
    assert len(lines) == 1002 + 5
    fitted = fit_table(lines, height=30, focus=focus)
    assert len(fitted) == 30
    assert fitted[:3] == lines[:3] and fitted[-2] == lines[-2]  # header and bottom border kept
    assert lines[3 + focus] in fitted  # the last row started is in view ...
    assert "executing" in lines[3 + focus] and "8." in lines[3 + focus]
    first = lines.index(fitted[3]) - 2
    assert fitted[-1] == f"rows {first}-{first + 24} of 1002 shown (the terminal is too short for all)"


def test_a_table_that_fits_is_left_alone_and_a_tiny_terminal_gets_what_fits() -> None:
    lines, focus = big_table("17:16:50.000")
    small = render_box_table(TASK_TABLE_HEADERS, [("a", "", "", "", "", "")]).splitlines()
    assert fit_table(small, height=30, focus=0) == small
    assert fit_table(lines, height=4, focus=focus) == lines[:4]


def test_the_live_frame_is_the_box_table_fitted_with_a_status_line() -> None:
    frame = Frame("spark-cluster1-1", summarize=False)
    frame.show(seed_task(clock("17:18:45.000")))
    screen = io.StringIO()
    Console(file=screen, width=140, height=20, color_system=None).print(frame)
    drawn = screen.getvalue().splitlines()
    assert len(drawn) == 20
    assert drawn[0].startswith("+-----") and drawn[1].startswith("| TASK TYPE ")
    assert any(line.startswith("|   5 namenode ") and "| executing |" in line for line in drawn)
    assert drawn[-1].startswith("Watching task 'spark-cluster1-1': executing, 10/20 steps done, at 5 namenode; ")
    assert drawn[-1].endswith("elapsed (Ctrl-C to leave)")


@pytest.mark.parametrize(("value", "seconds"), [(None, 20.0), ("0.5", 0.5), ("120", 30.0), ("soon", 20.0)])
def test_heartbeat_interval_is_configurable_for_tests_but_never_beyond_30_s(
        monkeypatch: pytest.MonkeyPatch, value: str | None, seconds: float) -> None:
    if value is None:
        monkeypatch.delenv(refresh.HEARTBEAT_ENV, raising=False)
    else:
        monkeypatch.setenv(refresh.HEARTBEAT_ENV, value)
    assert refresh.heartbeat_seconds() == seconds


class CtrlCOnFirstFrame(io.StringIO):
    """A terminal whose user presses Ctrl-C the moment the first frame is drawn: before rich's
    Live has finished starting (its repaint thread not yet running), where a loaded machine
    leaves the widest window."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        written = super().write(text)
        if not self.pressed and "first gate" in text:
            self.pressed = True
            raise KeyboardInterrupt
        return written


def test_ctrl_c_while_the_live_view_starts_still_shows_the_cursor_again() -> None:
    from kubectl_dtk.api.context import Context
    from kubectl_dtk.follow.live import watch_live

    terminal = CtrlCOnFirstFrame()
    status = TaskStatus(state="executing", steps=seed_task(clock("17:18:30.000")).steps)
    step = replace(status.steps[3], name="first gate")
    task = {"metadata": {"name": "t"}, "status": task_wire.to_status(replace(status, steps=(
        *status.steps[:3], step, *status.steps[4:])))}
    with pytest.raises(KeyboardInterrupt):
        watch_live(Context(out=terminal, color_choice="never"), task, timeout=None, summarize=False)
    shown = terminal.getvalue()
    assert "\x1b[?25l" in shown  # the cursor was hidden for the redraw...
    assert shown.rindex("\x1b[?25h") > shown.rindex("\x1b[?25l")  # ...and is shown again
