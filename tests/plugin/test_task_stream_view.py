"""`kubectl dtk task-status -m stream`: seed 000's text byte for byte, following a Task live, JSONL."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from seed_task import clock, seed_task, with_failure

from dtk_api.task_status import CommandResult, Failure, Step, TaskStatus
from kubectl_dtk.views.stream import StreamPrinter, render_stream

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

# Seed 000, the `task-status -m stream` sample, verbatim up to the end of stage 8. (The seed then
# prints "..." where the blank line that closes every stage, and what follows, would be.)
STREAM_TO_STAGE_8 = """\
========================= 2015-11-26 17:16:55 +0000 start 'assembly_converge' =========================


============================================================
STAGE 1: create_nodes_stage
TIME START: 2015-11-26 17:16:55 +0000
OPERATION: CreateNodes
  master
  slaves:1
  slaves:2
STATUS: succeeded
DURATION: 83.8s
------------------------------------------------------------

============================================================
STAGE 2: bigtop_multiservice
TIME START: 2015-11-26 17:18:19 +0000
COMPONENT: assembly_wide/bigtop_multiservice
STATUS: succeeded
DURATION: 0.0s
------------------------------------------------------------

============================================================
STAGE 3: bigtop hiera
TIME START: 2015-11-26 17:18:29 +0000
COMPONENTS:
  node-group:slaves/bigtop_multiservice::hiera
  master/bigtop_multiservice::hiera
STATUS: succeeded
DURATION: 5.4s
------------------------------------------------------------

============================================================
STAGE 4: bigtop_base
TIME START: 2015-11-26 17:18:35 +0000
COMPONENTS:
  node-group:slaves/bigtop_base
  master/bigtop_base
STATUS: succeeded
DURATION: 5.8s
------------------------------------------------------------

============================================================
STAGE 5: namenode
TIME START: 2015-11-26 17:18:41 +0000
COMPONENT: master/hadoop::namenode
STATUS: succeeded
DURATION: 45.5s
------------------------------------------------------------

============================================================
STAGE 6: if needed leave safemode
TIME START: 2015-11-26 17:19:27 +0000
ACTION: master/hadoop::namenode.leave_safemode
STATUS: succeeded
DURATION: 3.5s
RESULTS:

NODE: master
RUN: su hdfs -c 'hdfs dfsadmin -safemode leave' (syscall)
RETURN CODE: 0
STDOUT:
  Safe mode is OFF

------------------------------------------------------------

============================================================
STAGE 7: namenode smoke test
TIME START: 2015-11-26 17:19:30 +0000
ACTION: master/hadoop::namenode.smoke_test
STATUS: succeeded
DURATION: 2.2s
RESULTS:

NODE: master
RUN: echo "namenode port=8020" (syscall)
RETURN CODE: 0
STDOUT:
  namenode port=8020
--
RUN: netstat -nltp | grep 8020 (syscall)
RETURN CODE: 0
STDOUT:
  tcp        0      0 10.90.0.238:8020            0.0.0.0:*                   LISTEN      3637/java
--
RUN: su hdfs -c "hdfs dfsadmin -safemode get" | grep OFF (syscall)
RETURN CODE: 0
STDOUT:
  Safe mode is OFF

------------------------------------------------------------

============================================================
STAGE 8: datanodes
TIME START: 2015-11-26 17:19:33 +0000
COMPONENTS:
  node-group:slaves/hadoop::common_hdfs
  node-group:slaves/hadoop::datanode
STATUS: succeeded
DURATION: 33.0s
------------------------------------------------------------
"""
STAGE_1_START = STREAM_TO_STAGE_8.split("STATUS:")[0]  # banner + stage 1 up to its node names
AFTER_STAGE_8 = clock("17:20:06.500")  # stage 8 ended at 17:20:06.000, stage 9 starts at 07.000
END_BANNER = "========================= end: 'assembly_converge' (total duration: 318.6s) =========================\n"


def test_golden_is_verbatim_from_the_seed() -> None:
    found = sorted(SEEDS.glob("000_*.txt"))
    if not found:
        pytest.skip(f"seed 000 not available at {SEEDS}")
    assert STREAM_TO_STAGE_8 + "...\n" in found[0].read_text()


def test_stages_1_to_8_are_seed_000_stream() -> None:
    assert render_stream(seed_task(AFTER_STAGE_8)) == STREAM_TO_STAGE_8 + "\n"


def test_a_follower_prints_each_part_once_as_it_happens() -> None:
    printer = StreamPrinter()
    assert printer.feed(seed_task(clock("17:16:55.000"))) == ""  # pending: nothing to say yet
    assert printer.feed(seed_task(clock("17:17:00.000"))) == STAGE_1_START
    assert printer.feed(seed_task(clock("17:17:30.000"))) == ""  # still creating nodes
    assert printer.feed(seed_task(clock("17:18:19.000"))) == (
        "STATUS: succeeded\nDURATION: 83.8s\n" + "-" * 60 + "\n\n"
    )
    stage_2_start = printer.feed(seed_task(clock("17:18:19.210")))
    assert stage_2_start == (
        "=" * 60 + "\nSTAGE 2: bigtop_multiservice\nTIME START: 2015-11-26 17:18:19 +0000\n"
        "COMPONENT: assembly_wide/bigtop_multiservice\n"
    )
    assert printer.feed(seed_task(clock("17:18:19.210"))) == ""  # the same status again
    assert printer.feed(seed_task(clock("17:17:30.000"))) == ""  # a stale one


def test_fed_every_moment_a_follower_prints_exactly_the_seed() -> None:
    printer = StreamPrinter()
    every_second = [clock(f"17:{minute}:{second:02d}.000") for minute in range(16, 21) for second in range(60)]
    text = "".join(printer.feed(seed_task(at)) for at in every_second if at <= AFTER_STAGE_8)
    assert text == STREAM_TO_STAGE_8 + "\n"
    assert not printer.finished


def test_a_late_follower_replays_from_stage_1_then_follows() -> None:
    printer = StreamPrinter()
    assert printer.feed(seed_task(AFTER_STAGE_8)) == STREAM_TO_STAGE_8 + "\n"
    stage_9_start = printer.feed(seed_task(clock("17:20:08.000")))
    assert stage_9_start.startswith("=" * 60 + "\nSTAGE 9: hdfs directories for spark\n")


def test_the_end_banner_closes_a_finished_task() -> None:
    printer = StreamPrinter()
    text = printer.feed(seed_task())
    assert text.startswith(STREAM_TO_STAGE_8)
    assert text.endswith(
        "STAGE 12: component gitarchive[mar01]\nTIME START: 2015-11-26 17:22:02 +0000\n"
        "COMPONENT: master/gitarchive[mar01]\nSTATUS: succeeded\nDURATION: 11.7s\n"
        + "-" * 60 + "\n\n" + END_BANNER
    )
    assert printer.finished
    assert printer.feed(seed_task()) == ""


def test_a_failed_component_stage_shows_its_errors_then_the_end() -> None:
    failed = with_failure(seed_task(clock("17:19:26.600")), "5.1",
                          "Component hadoop::namenode: namenode did not start")
    assert render_stream(failed).endswith(
        "STAGE 5: namenode\n"
        "TIME START: 2015-11-26 17:18:41 +0000\n"
        "COMPONENT: master/hadoop::namenode\n"
        "STATUS: failed\n"
        "DURATION: 45.5s\n"
        "ERRORS:\n"
        "NODE: master\n"
        "  Component hadoop::namenode: namenode did not start\n"
        "\n" + "-" * 60 + "\n\n"
        "========================= end: 'assembly_converge' (total duration: 151.5s) =========================\n"
    )


def test_a_failed_action_shows_its_output_with_stderr() -> None:
    refused = CommandResult(run='su hdfs -c "hdfs dfsadmin -safemode get" | grep OFF', return_code=1,
                            stderr="safemode: Connection refused\nretry later\n")
    failed = with_failure(seed_task(clock("17:19:32.800")), "7.1", "safemode: Connection refused",
                          result=refused)
    stage_7 = render_stream(failed).split("STAGE 7: ")[1]
    assert stage_7.endswith(
        "--\n"
        "RUN: su hdfs -c \"hdfs dfsadmin -safemode get\" | grep OFF (syscall)\n"
        "RETURN CODE: 1\n"
        "STDERR:\n"
        "  safemode: Connection refused\n"
        "  retry later\n"
        "\n"
        "ERRORS:\n"
        "NODE: master\n"
        "  safemode: Connection refused\n"
        "\n" + "-" * 60 + "\n\n"
        "========================= end: 'assembly_converge' (total duration: 157.7s) =========================\n"
    )
    assert "STATUS: failed\n" in stage_7


def test_a_single_missing_node_is_stage_1_itself() -> None:
    task = TaskStatus(state="executing", steps=(
        Step(index="", kind="task", name="assembly_converge", status="executing", started_at=clock("10:00:00.000")),
        Step(index="1", kind="create_node", name="create_node", node="master", status="executing",
             started_at=clock("10:00:00.000"), operation="CreateNode", nodes=("master",)),
    ))
    assert render_stream(task).endswith("STAGE 1: create_node\nTIME START: 2015-11-26 10:00:00 +0000\n"
                                        "OPERATION: CreateNode\n  master\n")


def test_a_task_cancelled_before_it_started_has_banners_without_times() -> None:
    task = TaskStatus(state="cancelled", steps=(
        Step(index="", kind="task", name="load_dataset", status="cancelled"),
        Step(index="1", kind="stage", name="load 'mar01'"),
    ))
    assert render_stream(task) == (
        "========================= start 'load_dataset' =========================\n\n\n"
        "========================= end: 'load_dataset' =========================\n"
    )


def test_jsonl_gives_the_same_events_one_object_a_line() -> None:
    printer = StreamPrinter(jsonl=True)
    text = printer.feed(seed_task(clock("17:17:00.000"))) + printer.feed(seed_task())
    events = [json.loads(line) for line in text.splitlines()]
    assert {event["version"] for event in events} == {1}
    assert [e["event"] for e in events[:3]] == ["task_start", "stage_start", "stage_end"]
    assert len(events) == 1 + 2 * 12 + 1 and events[-1]["event"] == "task_end"
    assert events[0] == {"version": 1, "event": "task_start", "task": "assembly_converge",
                         "startedAt": "2015-11-26T17:16:55.100Z"}
    assert events[1]["operation"] == "CreateNodes" and events[1]["nodes"] == ["master", "slaves:1", "slaves:2"]
    smoke_test_end = next(e for e in events if e["event"] == "stage_end" and e["stage"] == "7")
    assert smoke_test_end["status"] == "succeeded" and smoke_test_end["durationSeconds"] == 2.2
    assert [r["run"] for r in smoke_test_end["results"]][1] == "netstat -nltp | grep 8020"
    assert smoke_test_end["results"][1]["node"] == "master"
    assert events[-1] == {"version": 1, "event": "task_end", "task": "assembly_converge", "state": "succeeded",
                          "startedAt": "2015-11-26T17:16:55.100Z", "endedAt": "2015-11-26T17:22:13.700Z",
                          "durationSeconds": 318.6, "failure": None}


# ---- issue 8 point 16: every failure says why, and every stream of a finished Task closes -------

TIMEOUT = "Timeout (1 sec) for this action has been exceeded"


def _timed_out_at_7_1() -> TaskStatus:
    killed = CommandResult(run='su hdfs -c "hdfs dfsadmin -safemode get" | grep OFF', return_code=None,
                           stdout="waiting\n")
    failed = with_failure(seed_task(clock("17:19:32.800")), "7.1", TIMEOUT, result=killed)
    return replace(failed, failure=Failure(index="7.1", node="master", message=TIMEOUT))


def test_point_16_a_killed_command_says_so_and_its_error_reaches_the_stage_end() -> None:
    stage_7 = render_stream(_timed_out_at_7_1()).split("STAGE 7: ")[1]
    assert ("RUN: su hdfs -c \"hdfs dfsadmin -safemode get\" | grep OFF (syscall)\n"
            "RETURN CODE: none (the command was killed)\n"
            "STDOUT:\n  waiting\n\n"
            f"ERRORS:\nNODE: master\n  {TIMEOUT}\n\n" + "-" * 60 + "\n") in stage_7
    events = [json.loads(line) for line in render_stream(_timed_out_at_7_1(), jsonl=True).splitlines()]
    stage_end = next(e for e in events if e["event"] == "stage_end" and e["stage"] == "7")
    assert stage_end["errors"] == [{"node": "master", "type": "user", "message": TIMEOUT}]
    assert stage_end["results"][-1]["returnCode"] is None


def test_point_16_a_failed_task_ends_with_its_failure_before_the_closing_banner() -> None:
    text = render_stream(_timed_out_at_7_1())
    assert text.endswith("-" * 60 + "\n\n"
                         f"TASK FAILED: step 7.1 on master: {TIMEOUT}\n"
                         "========================= end: 'assembly_converge' (total duration: 157.7s) "
                         "=========================\n")
    end = json.loads(render_stream(_timed_out_at_7_1(), jsonl=True).splitlines()[-1])
    assert end["failure"] == {"index": "7.1", "node": "master", "message": TIMEOUT, "returnCode": None}


def test_point_16_a_task_failing_before_its_rows_exist_opens_and_closes_with_its_failure() -> None:
    invalid = TaskStatus(state="failed", failure=Failure(index="", node="", message="task is invalid: unknown "
                                                         "variable 'nope' in 'echo {{nope}}'\nsecond line"))
    assert StreamPrinter(title="load").feed(invalid) == (
        "========================= start 'load' =========================\n\n\n"
        "TASK FAILED: task is invalid: unknown variable 'nope' in 'echo {{nope}}'\n"
        "  second line\n"
        "========================= end: 'load' =========================\n")
    events = [json.loads(line) for line in StreamPrinter(jsonl=True, title="load").feed(invalid).splitlines()]
    assert [(e["event"], e["task"]) for e in events] == [("task_start", "load"), ("task_end", "load")]
    assert events[1]["state"] == "failed" and events[1]["failure"]["message"].startswith("task is invalid")
    assert StreamPrinter(title="load").feed(TaskStatus(state="pending", message="waiting")) == ""


def test_point_16_a_final_status_without_its_rows_still_closes_the_stream() -> None:
    """The API server refused the final status: the operator wrote a minimal one without rows
    (SPEC 4). A follower that printed the stages so far must still print the end."""
    printer = StreamPrinter(title="ignored: the rows named it")
    assert printer.feed(seed_task(clock("17:19:32.800"))).startswith(STREAM_TO_STAGE_8.split("STAGE 7")[0])
    minimal = TaskStatus(state="failed", failure=Failure(index="", node="", message="the API server refused "
                                                         "the Task's status: too large"))
    assert printer.feed(minimal) == (
        "TASK FAILED: the API server refused the Task's status: too large\n"
        "========================= end: 'assembly_converge' =========================\n")
    assert printer.finished and printer.feed(minimal) == ""
