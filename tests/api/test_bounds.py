"""The Task status stays under its budget whatever the commands print."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dtk_api.bounds import STATUS_BUDGET_BYTES, bounded
from dtk_api.task_status import CommandResult, Step, TaskStatus
from dtk_api.task_wire import to_status
from dtk_api.transitions import MAX_MESSAGES, add_message

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


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


def test_messages_are_capped_in_count_and_length() -> None:
    task = noisy_task(rows=1, commands=0)
    assert len(task.messages) == MAX_MESSAGES
    assert task.messages[-1].text.endswith("x") and task.messages[-1].text.startswith("x")  # tail kept
    assert task.messages[0].text != "message 0"
