"""`kubectl dtk describe-task`: vappio's `vp-describe-task` lines byte for byte (seed 002 and
SPEC section 8), the padding, and what each --show* flag prints."""

# ruff: noqa: E501  (golden lines are the seed's own, up to 129 characters wide, kept verbatim)

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dtk_api.task_status import Message, MessageType
from kubectl_dtk.views.describe import (
    DescribedTask,
    NewMessages,
    described,
    render,
    shown_kinds,
    task_line,
)

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SPEC = Path(__file__).resolve().parents[3] / "shared" / "SPEC.md"

# Seed 002, Example 2 (`vp-describe-task --nc`), verbatim.
SEED_NC_OUTPUT = """\
Task: realizeTag-1291215268.4    Type: realizeTag    State: failed        Num: 0/2 (  0%) LastUpdated: 2010/12/01 15:04:14 UTC


Task: uploadTag-1291215267.24    Type: uploadTag     State: failed        Num: 1/2 ( 50%) LastUpdated: 2010/12/01 15:04:40 UTC


Task: addInstances-1291216121.4  Type: addInstances  State: failed        Num: 0/1 (  0%) LastUpdated: 2010/12/01 15:08:42 UTC


Task: startCluster-1291319864.71 Type: startCluster  State: failed        Num: 0/2 (  0%) LastUpdated: 2010/12/02 19:57:48 UTC
"""

# Seed 002, Example 5 (`--show-all`), with the stack trace cut to its first frames; the rendered
# docs show vappio's tab as eight spaces, the command prints a tab.
SEED_SHOW_ALL = """\
Task: startCluster-1291319864.71 Type: startCluster  State: failed        Num: 0/2 (  0%) LastUpdated: 2010/12/02 19:57:48 UTC
Notification - 2010/12/02 19:57:44 UTC: Starting test
Debug - 2010/12/02 19:57:44 UTC: Starting master
Notification - 2010/12/02 19:57:44 UTC: Loading credential...
Error - 2010/12/02 19:57:48 UTC: Unable to run program with exit code 1
Stacktrace:
\tTraceback (most recent call last):
\t  File "/opt/vappio-py/vappio/tasks/utils.py", line 85, in runTask
\t    f()
\tProgramRunError: Unable to run program with exit code 1
"""

TRACE = """\
Traceback (most recent call last):
  File "/opt/vappio-py/vappio/tasks/utils.py", line 85, in runTask
    f()
ProgramRunError: Unable to run program with exit code 1
"""


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(microsecond=412000, tzinfo=UTC)


def msg(kind: MessageType, when: str, text: str, stacktrace: str = "") -> Message:
    return Message(type=kind, time=at(when), text=text, stacktrace=stacktrace)


def task(name: str, workflow: str, state: str, done: int, total: int, when: str,
         *messages: Message) -> DescribedTask:
    return DescribedTask(name=name, workflow=workflow, state=state, completed=done, total=total,
                         updated_at=at(when), messages=messages)


SEED_FAILED = (
    task("realizeTag-1291215268.4", "realizeTag", "failed", 0, 2, "2010/12/01 15:04:14"),
    task("uploadTag-1291215267.24", "uploadTag", "failed", 1, 2, "2010/12/01 15:04:40"),
    task("addInstances-1291216121.4", "addInstances", "failed", 0, 1, "2010/12/01 15:08:42"),
    task("startCluster-1291319864.71", "startCluster", "failed", 0, 2, "2010/12/02 19:57:48"),
)

START_CLUSTER = task(
    "startCluster-1291319864.71", "startCluster", "failed", 0, 2, "2010/12/02 19:57:48",
    msg("notification", "2010/12/02 19:57:44", "Starting test"),
    msg("debug", "2010/12/02 19:57:44", "Starting master"),
    msg("notification", "2010/12/02 19:57:44", "Loading credential..."),
    msg("error", "2010/12/02 19:57:48", "Unable to run program with exit code 1", TRACE),
    msg("result", "2010/12/02 19:57:49", "master c.go: hello"),
)


def test_the_seed_summary_is_reproduced_byte_for_byte() -> None:
    """Names padded to the longest of the set, type and state to 13, two blank lines between."""
    assert render(SEED_FAILED) == SEED_NC_OUTPUT


def test_the_seed_lines_match_the_seed_file_when_it_is_available() -> None:
    found = sorted(SEEDS.glob("002_*.txt"))
    if not found:
        pytest.skip(f"seed 002 not available at {SEEDS}")
    assert SEED_NC_OUTPUT.strip() in found[0].read_text()


def test_the_spec_example_line() -> None:
    """SPEC section 8's example with real values in place of NAME, WORKFLOW and STATE: its `Num:
    7/24 ( 29%) LastUpdated: ...` tail verbatim; the columns at vappio's widths."""
    spec_tail = "Num: 7/24 ( 29%) LastUpdated: 2026/11/22 10:41:33 UTC"
    if SPEC.exists():
        assert f"State: STATE  {spec_tail}`" in SPEC.read_text()
    line = task_line(task("spark-cluster1-1", "create", "executing", 7, 24, "2026/11/22 10:41:33"), 16)
    assert line == f"Task: spark-cluster1-1 Type: create        State: executing     {spec_tail}"


@pytest.mark.parametrize(("done", "total", "shown"), [(0, 0, "0/0 (  0%)"), (0, 5, "0/5 (  0%)"),
                                                       (29, 100, "29/100 ( 29%)"), (24, 24, "24/24 (100%)"),
                                                       (1, 3, "1/3 ( 33%)")])
def test_num_and_its_percentage(done: int, total: int, shown: str) -> None:
    """0/0 is 0% (vappio divided by zero), and 29/100 stays 29 (vappio's float made it 28)."""
    assert f" Num: {shown} " in task_line(task("t", "create", "pending", done, total, "2026/01/02 03:04:05"), 1)


def test_names_of_different_lengths_line_up() -> None:
    tasks = [task("a", "create", "succeeded", 3, 3, "2026/01/02 03:04:05"),
             task("app-converge-12", "scale_slaves_and_more", "cancelled", 1, 2, "2026/01/02 03:04:06")]
    lines = render(tasks).split("\n")
    assert lines[0] == "Task: a               Type: create        State: succeeded     Num: 3/3 (100%) LastUpdated: 2026/01/02 03:04:05 UTC"
    # A workflow longer than 13 characters pushes the rest on by its excess, as vappio's printf did.
    assert lines[3] == "Task: app-converge-12 Type: scale_slaves_and_more State: cancelled     Num: 1/2 ( 50%) LastUpdated: 2026/01/02 03:04:06 UTC"
    assert lines[1:3] == ["", ""] and lines[4:] == [""]


def test_show_all_prints_the_seed_messages_and_results() -> None:
    shown = render([START_CLUSTER], shown_kinds(show_all=True))
    assert shown == SEED_SHOW_ALL + "Result - 2010/12/02 19:57:49 UTC: master c.go: hello\n"


def lines_with(**flags: bool) -> list[str]:
    return render([START_CLUSTER], shown_kinds(**flags)).splitlines()[1:]


def test_no_flag_prints_the_summary_line_only() -> None:
    assert lines_with() == []


def test_show_prints_notifications_only() -> None:
    assert lines_with(show=True) == ["Notification - 2010/12/02 19:57:44 UTC: Starting test",
                                     "Notification - 2010/12/02 19:57:44 UTC: Loading credential..."]


def test_show_error_prints_errors_with_their_tab_indented_stack_trace() -> None:
    assert lines_with(show_error=True) == [
        "Error - 2010/12/02 19:57:48 UTC: Unable to run program with exit code 1", "Stacktrace:",
        "\tTraceback (most recent call last):",
        '\t  File "/opt/vappio-py/vappio/tasks/utils.py", line 85, in runTask',
        "\t    f()", "\tProgramRunError: Unable to run program with exit code 1"]


def test_an_error_without_a_stack_trace_has_no_stacktrace_block() -> None:
    plain = task("t", "create", "failed", 0, 1, "2026/01/02 03:04:05",
                 msg("error", "2026/01/02 03:04:05", "step 3.1 on web failed: disk full"))
    assert render([plain], shown_kinds(show_error=True)).splitlines()[1:] == [
        "Error - 2026/01/02 03:04:05 UTC: step 3.1 on web failed: disk full"]


def test_show_debug_prints_debug_messages() -> None:
    assert lines_with(show_debug=True) == ["Debug - 2010/12/02 19:57:44 UTC: Starting master"]


def test_results_come_only_with_show_all() -> None:
    everything_but_all = "\n".join(lines_with(show=True, show_error=True, show_debug=True))
    assert "Result" not in everything_but_all and "hello" not in everything_but_all
    assert "Result - 2010/12/02 19:57:49 UTC: master c.go: hello" in lines_with(show_all=True)


def body(name: str, status: dict[str, Any] | None = None, namespace: str = "ns") -> dict[str, Any]:
    out: dict[str, Any] = {"metadata": {"name": name, "namespace": namespace,
                                        "creationTimestamp": "2026-11-22T10:40:00Z"},
                           "spec": {"workflow": "create"}}
    if status is not None:
        out["status"] = status
    return out


def test_a_task_body_reads_state_progress_and_updated_at() -> None:
    raw = body("spark-1", {"state": "executing", "progress": {"completed": 7, "total": 24},
                           "updatedAt": "2026-11-22T10:41:33.999Z",
                           "messages": [{"type": "notification", "time": "2026-11-22T10:41:30.000Z",
                                         "text": "stage 1 'x' started"}]})
    view = described(raw)
    assert task_line(view, 7) == "Task: spark-1 Type: create        State: executing     Num: 7/24 ( 29%) LastUpdated: 2026/11/22 10:41:33 UTC"
    assert [m.text for m in view.messages] == ["stage 1 'x' started"]


def test_a_task_not_yet_seen_by_the_operator_is_pending_as_of_its_creation() -> None:
    view = described(body("fresh"))
    assert task_line(view, 5) == "Task: fresh Type: create        State: pending       Num: 0/0 (  0%) LastUpdated: 2026/11/22 10:40:00 UTC"


def test_all_namespaces_names_a_task_with_its_namespace() -> None:
    assert described(body("spark-1", namespace="team-a"), qualified=True).name == "team-a/spark-1"


def test_blocking_prints_each_message_once_behind_its_task_name() -> None:
    first = {"type": "notification", "time": "2026-11-22T10:41:30.000Z", "text": "task t started"}
    debug = {"type": "debug", "time": "2026-11-22T10:41:31.000Z", "text": "skipped"}
    error = {"type": "error", "time": "2026-11-22T10:41:32.000Z", "text": "boom", "stacktrace": "Traceback\n  x\n"}
    news = NewMessages(shown_kinds(show=True, show_error=True), qualified=False, only={("ns", "t")})
    assert news.text([body("t", {"messages": [first, debug]}), body("other", {"messages": [first]})]) == (
        "t: Notification - 2026/11/22 10:41:30 UTC: task t started\n")
    assert news.text([body("t", {"messages": [first, debug, error]})]) == (
        "t: Error - 2026/11/22 10:41:32 UTC: boom\nStacktrace:\n\tTraceback\n\t  x\n")
    assert news.text([body("t", {"messages": [first, debug, error]})]) == ""
