"""vappio's `vp-describe-task` view of Tasks: one summary line a task, then its messages.

No I/O: Task bodies in, text out. The spacing is vappio's printf (`vappio/cli/taskStatus.py`):
`'Task: %s%s Type: %s%s State: %s%s Num: %d/%d (%3d%%) LastUpdated: %s'`, the name padded to the
longest name of the set, the type and the state to 13 characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from dtk_api.task_status import Message
from dtk_api.task_wire import RawMessage, message_from_raw
from dtk_api.timefmt import parse_time
from kubectl_dtk.views.printable import printable

TIME_FORMAT: Final = "%Y/%m/%d %H:%M:%S UTC"
COLUMN_WIDTH: Final = 13  # vappio's width for the type and the state; longer values just push on
TASK_SEPARATOR: Final = "\n\n\n"  # vappio's `print; print` between tasks: two blank lines
MESSAGE_LABELS: Final[Mapping[str, str]] = {
    "notification": "Notification", "error": "Error", "debug": "Debug", "result": "Result",
}
ALL_KINDS: Final = frozenset(MESSAGE_LABELS)


@dataclass(frozen=True)
class DescribedTask:
    name: str
    workflow: str
    state: str
    completed: int
    total: int
    updated_at: datetime | None
    messages: tuple[Message, ...] = ()

    @property
    def percent(self) -> int:
        # Integer arithmetic: vappio's float `c/n*100` turns 29/100 into 28.
        return self.completed * 100 // self.total if self.total > 0 else 0


def shown_kinds(*, show: bool = False, show_error: bool = False, show_debug: bool = False,
                show_all: bool = False) -> frozenset[str]:
    """Message types the --show* flags select. As in vappio, --show means notifications only;
    results only come with --show-all."""
    if show_all:
        return ALL_KINDS
    wanted = {"notification": show, "error": show_error, "debug": show_debug}
    return frozenset(kind for kind, on in wanted.items() if on)


def described(task: Mapping[str, Any], *, qualified: bool = False) -> DescribedTask:
    """A Task body as the view needs it; `qualified` names it `namespace/name` (for -A, where
    names repeat across namespaces)."""
    meta, spec = task.get("metadata") or {}, task.get("spec") or {}
    status = task.get("status") or {}
    progress = status.get("progress") or {}
    name = str(meta.get("name", ""))
    # A Task the operator has not written yet has no status: it is pending, last touched at creation.
    stamp = status.get("updatedAt") or meta.get("creationTimestamp")
    return DescribedTask(
        name=f"{meta.get('namespace', '')}/{name}" if qualified else name,
        workflow=str(spec.get("workflow", "")),
        state=str(status.get("state") or "pending"),
        completed=int(progress.get("completed", 0)),
        total=int(progress.get("total", 0)),
        updated_at=parse_time(stamp) if stamp else None,
        messages=tuple(message_from_raw(cast(RawMessage, m)) for m in status.get("messages", ())),
    )


def vappio_time(moment: datetime | None) -> str:
    return moment.strftime(TIME_FORMAT) if moment else ""


def task_line(task: DescribedTask, name_width: int) -> str:
    return (f"Task: {task.name.ljust(name_width)} Type: {task.workflow.ljust(COLUMN_WIDTH)} "
            f"State: {task.state.ljust(COLUMN_WIDTH)} Num: {task.completed}/{task.total} ({task.percent:3d}%) "
            f"LastUpdated: {vappio_time(task.updated_at)}")


def message_lines(message: Message) -> list[str]:
    """`Error - <time>: text`, and for an error with a stack trace `Stacktrace:` then its lines
    each behind a tab (vappio's `'\\t' + '\\n\\t'.join(...)`)."""
    label = MESSAGE_LABELS.get(message.type, message.type.capitalize())
    lines = [f"{label} - {vappio_time(message.time)}: {printable(message.text)}"]
    trace = printable(message.stacktrace).rstrip("\n")
    if message.type == "error" and trace:
        lines += ["Stacktrace:", *("\t" + line for line in trace.split("\n"))]
    return lines


def render_task(task: DescribedTask, *, name_width: int, kinds: frozenset[str]) -> str:
    lines = [task_line(task, name_width)]
    for message in task.messages:
        if message.type in kinds:
            lines += message_lines(message)
    return "\n".join(lines)


def render(tasks: Sequence[DescribedTask], kinds: frozenset[str] = frozenset()) -> str:
    """The whole summary, ending with a newline ("" for no tasks)."""
    if not tasks:
        return ""
    width = max(len(task.name) for task in tasks)
    return TASK_SEPARATOR.join(render_task(task, name_width=width, kinds=kinds) for task in tasks) + "\n"


class NewMessages:
    """What `-b` prints as it comes: each message of the waited-for Tasks once, behind its Task's
    name (several Tasks may interleave). vappio printed the messages newer than its last poll; the
    status keeps only the newest 200, so what was printed is remembered instead."""

    def __init__(self, kinds: frozenset[str], *, qualified: bool, only: Set[tuple[str, str]]) -> None:
        self.kinds, self.qualified, self.only = kinds, qualified, only  # `only`: (namespace, name)
        self.printed: set[tuple[str, str, str, str]] = set()

    def text(self, tasks: Iterable[Mapping[str, Any]]) -> str:
        out = []
        for body in tasks:
            meta = body.get("metadata") or {}
            if (meta.get("namespace", ""), meta.get("name", "")) in self.only:
                task = described(body, qualified=self.qualified)
                out += [f"{task.name}: " + "\n".join(message_lines(m)) + "\n" for m in self._new(task)]
        return "".join(out)

    def _new(self, task: DescribedTask) -> list[Message]:
        marks = [(task.name, m.time.isoformat(), m.type, m.text) for m in task.messages]
        fresh = [m for m, mark in zip(task.messages, marks, strict=True)
                 if m.type in self.kinds and mark not in self.printed]
        self.printed.update(marks)
        return fresh
