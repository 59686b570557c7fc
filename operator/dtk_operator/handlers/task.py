"""kopf handlers for Task: one daemon per unfinished Task runs it (and resumes it on restart)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import kopf

from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES
from dtk_operator.engine.runner import TaskRunner
from dtk_operator.engine.trouble import (
    GIVE_UP_AFTER_FAILURES,
    REASON_OPERATOR_ERROR,
    REPORT_AFTER_FAILURES,
    backoff,
    fail_task,
)
from dtk_operator.kube import events
from dtk_operator.kube.problems import describe

logger = logging.getLogger(__name__)


def _unfinished(status: kopf.Status, **_: Any) -> bool:
    return status.get("state") not in TERMINAL_TASK_STATES


def _arrival_or_removal(type: str | None, **_: Any) -> bool:
    return type in (None, "ADDED", "DELETED")  # None: listed when the operator starts


@kopf.on.event(r.GROUP, r.VERSION, r.TASK_PLURAL, when=_arrival_or_removal)
async def task_seen(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Remembers the order in which Tasks arrive, so that hand-made Tasks created within one second
    are numbered (and so queued) in the order they were created."""
    meta = body.get("metadata") or {}
    if type == "DELETED":
        memo.services.forget_arrival(str(meta.get("uid", "")))
    else:
        memo.services.note_arrival(str(meta.get("uid", "")), str(meta.get("resourceVersion", "")))


# A run notices a stop request within 0.1 s; cancellation_backoff (seconds) lets it park its status
# and update its instance before kopf cancels it, cancellation_timeout bounds the forced exit.
# backoff: seconds before a daemon that crashed is restarted (it resumes from the status).
@kopf.daemon(r.GROUP, r.VERSION, r.TASK_PLURAL, when=_unfinished, cancellation_backoff=10.0,
             cancellation_timeout=5.0, backoff=5.0)
async def task_daemon(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any) -> None:
    """A run that raises is tried again (it resumes from the status) after a capped backoff; a Task
    whose run keeps failing is failed with the error, so it never stays unfinished (point 2)."""
    services = memo.services
    for failures in itertools.count(1):
        try:
            return await TaskRunner(services, body, stopping=stopped.is_set)()
        except Exception as error:
            text = describe(error)
            logger.error("task %s: run failed (failure %d): %s", body["metadata"].get("name"), failures, text,
                         exc_info=error)
            if failures >= GIVE_UP_AFTER_FAILURES:
                return await fail_task(services, body, failures=failures, error=text)
            if failures >= REPORT_AFTER_FAILURES:
                events.warning(body, reason=REASON_OPERATOR_ERROR,
                               message=f"the operator failed {failures} times in a row running this task: {text}; "
                                       f"retrying in {backoff(failures):g} s")
            if await _stopped_within(stopped, backoff(failures)):
                return


async def _stopped_within(stopped: kopf.DaemonStopped, seconds: float) -> bool:
    """Sleeps up to `seconds`; True as soon as kopf asks the daemon to stop (shutdown, deletion)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not stopped.is_set() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    return stopped.is_set()
