"""The Task status stays under its budget whatever the commands print and whatever text the
Assembly and the params put into names, commands and messages (issue 8 point 12)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from dtk_api import textcaps as caps
from dtk_api.assembly import parse_assembly
from dtk_api.bounds import STATUS_BUDGET_BYTES, bounded
from dtk_api.conditions import set_condition
from dtk_api.instance_status import Problem
from dtk_api.plan import PlanRequest, build_plan
from dtk_api.task_status import CommandResult, Failure, Step, StepError, TaskStatus
from dtk_api.task_wire import to_status
from dtk_api.templating import TemplateError, render_with
from dtk_api.transitions import MAX_MESSAGES, add_message

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PARAM = "a" * 255 + "z"  # the longest param the Task CRD accepts
LONG = 100_000  # far more than any cap
MARKED = re.compile(r"(?P<head>.*?)(… )?\((?P<hidden>\d+) more characters\)( …)?(?P<tail>.*)", re.DOTALL)


def noisy_task(rows: int, commands: int) -> TaskStatus:
    result = CommandResult(run="make noise", return_code=0, stdout="o" * 4096, stderr="e" * 4095 + "!", truncated=True)
    steps = [Step(index="", kind="task", name="assembly_converge"), Step(index="1", kind="stage", name="s")]
    steps += [Step(index=f"1.{i}", kind="configure_node", name="configure_node", node=f"n{i}",
                   status="succeeded", results=(result,) * commands) for i in range(1, rows + 1)]
    task = TaskStatus(state="executing", steps=tuple(steps))
    for i in range(500):
        task = add_message(task, NOW, "notification", f"message {i} " + "x" * 5000)
    return task


def size(raw: object) -> int:
    return len(json.dumps(raw, separators=(",", ":")).encode())


def original_length(text: str) -> int:
    """What a cut text had: the characters shown plus those its marker says are hidden."""
    found = MARKED.fullmatch(text)
    assert found is not None, f"no cut marker in {text[:60]!r}...{text[-60:]!r}"
    return len(found["head"]) + int(found["hidden"]) + len(found["tail"])


def long_text(label: str) -> str:
    return f"<{label}>" + "m" * LONG + f"</{label}>"


def test_a_small_status_is_left_untouched() -> None:
    raw = dict(to_status(noisy_task(rows=1, commands=1)))
    raw["messages"] = raw["messages"][:3]
    assert bounded(raw) is raw


def test_many_noisy_commands_are_cut_to_fit_keeping_the_tail() -> None:
    raw = dict(to_status(noisy_task(rows=40, commands=10)))
    assert size(raw) > 3 * 1024 * 1024
    fitted = bounded(raw)
    assert size(fitted) <= STATUS_BUDGET_BYTES
    result = fitted["steps"][2]["results"][0]
    assert result["truncated"] is True
    assert result["stderr"].endswith("!")  # the tail is what survives
    assert len(fitted["steps"]) == 42 and len(fitted["messages"]) > 0


def test_messages_are_capped_in_count_and_length_keeping_both_ends() -> None:
    task = noisy_task(rows=1, commands=0)
    assert len(task.messages) == MAX_MESSAGES
    text = task.messages[-1].text
    assert len(text) <= caps.MAX_LOG_CHARS
    assert text.startswith("message 499 x") and text.endswith("x")  # what it is about, and how it ends
    assert original_length(text) == len("message 499 ") + 5000


# ---- the cut itself ------------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["head", "tail", "both"])
def test_a_cut_fits_its_limit_keeps_its_end_and_counts_what_it_hid(keep: caps.Keep) -> None:
    text = "HEAD" + "m" * 10_000 + "TAIL"
    fitted = caps.cut(text, 100, keep)
    assert len(fitted) <= 100 and original_length(fitted) == len(text)
    assert fitted.startswith("HEAD") == (keep != "tail") and fitted.endswith("TAIL") == (keep != "head")


@pytest.mark.parametrize("keep", ["head", "tail", "both"])
def test_cutting_a_cut_text_again_keeps_the_count_of_the_original(keep: caps.Keep) -> None:
    text = "HEAD" + "m" * 10_000 + "TAIL"
    again = caps.cut(caps.cut(text, 500, keep), 64, keep)
    assert len(again) <= 64 and original_length(again) == len(text)


def test_a_text_within_its_limit_is_left_as_it_is() -> None:
    assert caps.cut("short", 5) == "short"
    assert caps.cut("… (3 more characters)", 500) == "… (3 more characters)"


# ---- every field the operator writes -------------------------------------------------------


def wordy_status() -> dict[str, Any]:
    """One of every free-text field of a Task status, each far past its cap."""
    error = StepError(message=long_text("error"))
    leaf = Step(index="1.1", kind="action", name=long_text("leaf"), node=long_text("node"), status="failed",
                action=long_text("action"), components=(long_text("component"),), nodes=(long_text("nodes"),),
                results=(CommandResult(run=long_text("run"), return_code=1),), errors=(error,))
    task = TaskStatus(state="failed", message=long_text("status"), steps=(
        Step(index="", kind="task", name="big"), Step(index="1", kind="stage", name=long_text("stage")), leaf),
        failure=Failure(index="1.1", node=long_text("node"), message=long_text("failure"),
                        stderr=long_text("stderr")))
    task = add_message(task, NOW, "error", long_text("text"), name=long_text("name"),
                       stacktrace=long_text("stack"))
    return dict(to_status(task))


def test_every_free_text_field_is_held_to_its_cap_with_a_visible_cut() -> None:
    fitted = bounded(wordy_status())
    stage, leaf = fitted["steps"][1], fitted["steps"][2]
    failure, message = fitted["failure"], fitted["messages"][0]
    fields: dict[str, tuple[str, int, str, caps.Keep]] = {  # text, its cap, its label, the end(s) kept
        "stage name": (stage["name"], caps.MAX_NAME_CHARS, "stage", "head"),
        "row name": (leaf["name"], caps.MAX_NAME_CHARS, "leaf", "head"),
        "node": (leaf["node"], caps.MAX_NAME_CHARS, "node", "head"),
        "action": (leaf["action"], caps.MAX_ACTION_CHARS, "action", "head"),
        "component": (leaf["components"][0], caps.MAX_NAME_CHARS, "component", "head"),
        "node list": (leaf["nodes"][0], caps.MAX_NAME_CHARS, "nodes", "head"),
        "run": (leaf["results"][0]["run"], caps.MAX_RUN_CHARS, "run", "head"),
        "error": (leaf["errors"][0]["message"], caps.MAX_MESSAGE_CHARS, "error", "both"),
        "status.message": (fitted["message"], caps.MAX_MESSAGE_CHARS, "status", "both"),
        "failure.message": (failure["message"], caps.MAX_MESSAGE_CHARS, "failure", "both"),
        "failure.node": (failure["node"], caps.MAX_NAME_CHARS, "node", "head"),
        "failure.stderr": (failure["stderr"], caps.MAX_STDERR_CHARS, "stderr", "tail"),
        "message text": (message["text"], caps.MAX_LOG_CHARS, "text", "both"),
        "message name": (message["name"], caps.MAX_NAME_CHARS, "name", "head"),
        "stacktrace": (message["stacktrace"], caps.MAX_STACKTRACE_CHARS, "stack", "tail"),
    }
    for field, (text, cap, label, keep) in fields.items():
        assert len(text) <= cap, field
        assert text.startswith(f"<{label}>") == (keep != "tail"), field
        assert text.endswith(f"</{label}>") == (keep != "head"), field
        assert original_length(text) == len(long_text(label)), field
    assert size(fitted) <= STATUS_BUDGET_BYTES


def test_a_status_over_a_cap_is_cut_even_when_it_fits_the_budget() -> None:
    raw = dict(to_status(TaskStatus(steps=(Step(index="", kind="task", name="x" * (caps.MAX_NAME_CHARS + 1)),))))
    assert size(raw) < STATUS_BUDGET_BYTES
    fitted = bounded(raw)
    assert fitted is not raw and len(fitted["steps"][0]["name"]) <= caps.MAX_NAME_CHARS
    assert raw["steps"][0]["name"] == "x" * (caps.MAX_NAME_CHARS + 1)  # the caller's status is not changed


# ---- names and commands that dominate ------------------------------------------------------


def wordy_task(*, stages: int, members: int, commands: int) -> TaskStatus:
    """`stages` stages, each named from 50 references to a 256-character param, on `members`
    nodes that each ran `commands` commands built from 9 more; the last stage failed on every
    node with a long error, and every stage start was logged."""
    name = "{{p}}" * 50
    run = CommandResult(run="true " + PARAM * 9, return_code=0, stdout="ok\n")
    steps = [Step(index="", kind="task", name="big", status="failed")]
    for stage in range(1, stages + 1):
        error = (StepError(message="go: " + PARAM * 8),) if stage == stages else ()
        steps.append(Step(index=str(stage), kind="stage", name=f"{stage:03d}" + render_with(name, {"p": PARAM}),
                          status="succeeded", action=", ".join(f"n{m}/wide.go" for m in range(members))))
        steps += [Step(index=f"{stage}.{m}", kind="action", name="action", node=f"n{m}", status="succeeded",
                       started_at=NOW, ended_at=NOW, action=f"n{m}/wide.go", results=(run,) * commands,
                       errors=error) for m in range(1, members + 1)]
    task = TaskStatus(state="failed", steps=tuple(steps))
    for stage in range(1, stages + 1):
        task = add_message(task, NOW, "notification", f"stage {stage} '{steps[1].name}' started")
    return task


@pytest.mark.parametrize(("members", "commands"), [(1, 3), (2, 1)])
def test_two_hundred_long_stage_names_and_commands_still_fit_the_budget(members: int, commands: int) -> None:
    """SPEC 11's 200 stages; rows past what the budget holds are the sharding issue, not this one."""
    raw = dict(to_status(wordy_task(stages=200, members=members, commands=commands)))
    assert size(raw) > 4 * STATUS_BUDGET_BYTES
    fitted = bounded(raw)
    assert size(fitted) <= STATUS_BUDGET_BYTES
    assert len(fitted["steps"]) == len(raw["steps"])  # every row is still there
    for stage in range(1, 201):
        name = fitted["steps"][1 + (stage - 1) * (members + 1)]["name"]
        assert name.startswith(f"{stage:03d}aaaa") and original_length(name) == 3 + 50 * 256
    leaf_run = fitted["steps"][2]["results"][0]["run"]
    assert leaf_run.startswith("true aaaa") and original_length(leaf_run) == 5 + 9 * 256
    assert original_length(fitted["steps"][-1]["errors"][0]["message"]) == 4 + 8 * 256


def test_row_texts_are_cut_shorter_before_the_last_messages_are_dropped() -> None:
    raw = dict(to_status(wordy_task(stages=120, members=1, commands=1)))
    fitted = bounded(raw)
    assert size(fitted) <= STATUS_BUDGET_BYTES
    assert len(fitted["messages"]) > 0  # the newest messages say how the Task ended
    assert 64 < len(fitted["steps"][1]["name"]) <= 256  # cut shorter, but not yet to the last resort's 64


# ---- where the texts are made --------------------------------------------------------------


def test_a_stage_name_rendered_from_many_params_is_cut_in_the_plan() -> None:
    spec = parse_assembly({
        "components": [{"name": "wide", "create": [{"run": "true"}], "actions": [{"name": "go", "steps": [
            {"run": "true {{p}}"}]}]}],
        "nodes": [{"name": "n", "components": ["wide"]}],
        "workflows": [{"name": "big", "params": ["p"], "stages": [
            {"name": "{{p}}" * 50, "actions": ["wide.go"]}]}],
    })
    plan = build_plan(PlanRequest(assembly=spec, workflow="big", params={"p": PARAM}))
    stage = plan.steps[1]
    assert len(stage.name) <= caps.MAX_NAME_CHARS and stage.name.startswith(PARAM)
    assert original_length(stage.name) == 50 * 256


def test_an_error_quotes_a_long_term_only_in_part() -> None:
    with pytest.raises(TemplateError) as raised:
        render_with("echo " + "m" * LONG + " {{nope}}", {})
    assert "unknown variable 'nope' in 'echo mmm" in str(raised.value)
    assert len(str(raised.value)) < 2 * caps.MAX_QUOTE_CHARS


def test_condition_and_instance_messages_are_capped_keeping_both_ends() -> None:
    condition = set_condition([], type_="Stalled", status="True", reason="TaskFailed", message=long_text("why"),
                              now=NOW, generation=1)[0]
    assert len(condition["message"]) <= caps.MAX_CONDITION_MESSAGE_CHARS
    assert condition["message"].startswith("<why>") and condition["message"].endswith("</why>")
    problem = Problem(reason="InvalidSpec", message=long_text("problem"))
    assert len(problem.message) <= caps.MAX_MESSAGE_CHARS and problem.message.endswith("</problem>")
