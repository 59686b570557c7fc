"""kopf handlers for Task: one daemon per unfinished Task runs it (and resumes it on restart)."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES
from dtk_operator.engine.runner import TaskRunner


def _unfinished(status: kopf.Status, **_: Any) -> bool:
    return status.get("state") not in TERMINAL_TASK_STATES


# cancellation_timeout: seconds a stopping operator waits for the run to park its status.
@kopf.daemon(r.GROUP, r.VERSION, r.TASK_PLURAL, when=_unfinished, cancellation_timeout=10.0, backoff=5.0)
async def task_daemon(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any) -> None:
    await TaskRunner(memo.services, body, stopping=stopped.is_set)()
