"""kopf handlers for Task: one daemon per unfinished Task runs it (and resumes it on restart)."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES
from dtk_operator.engine.runner import TaskRunner


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
    await TaskRunner(memo.services, body, stopping=stopped.is_set)()
