"""At most one running Task per instance: later ones wait, and start in creation order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any, Literal

from dtk_api import transitions as t
from dtk_api.ordering import queue_key
from dtk_api.task_status import TaskStatus
from dtk_operator.engine.run_state import RunState
from dtk_operator.engine.services import InstanceKey, Services
from dtk_operator.engine.tasks import is_terminal, tasks_of

Turn = Literal["go", "cancelled", "stopped"]


async def wait_turn(services: Services, run: RunState, task: Mapping[str, Any], *, instance: InstanceKey,
                    cancelled: Callable[[], bool], stopping: Callable[[], bool]) -> Turn:
    """Ends when no earlier unfinished Task remains. Each earlier Task is bounded by its own
    timeout, so this wait is bounded too; a wake-up event makes the hand-over immediate."""
    uid = task["metadata"]["uid"]
    pause = 0.05
    while True:
        if stopping():
            return "stopped"
        if cancelled():
            return "cancelled"
        tasks = await tasks_of(services.kube, *instance)
        # Our own place is read from the fresh list: our sequence number may be newer than `task`.
        mine = next((queue_key(x) for x in tasks if x["metadata"]["uid"] == uid), queue_key(task))
        ahead = [x for x in tasks
                 if x["metadata"]["uid"] != uid and not is_terminal(x) and queue_key(x) < mine]
        if not ahead:
            return "go"
        waiting_for = f"waiting for task {ahead[0]['metadata']['name']} to finish"
        run.apply(partial(_waiting, message=waiting_for))
        wake = services.wakeup(instance)
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), pause)
        pause = min(pause * 2, services.options.queue_poll_max_seconds)


def _waiting(status: TaskStatus, now: datetime, *, message: str) -> TaskStatus:
    return t.wait_for(status, now, message)
