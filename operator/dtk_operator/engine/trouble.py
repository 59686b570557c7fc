"""Unexpected errors in handlers and Task daemons (issue 8 point 2): retried with a capped
exponential backoff, told to users after a few tries (a Warning Event and a `Stalled` condition
saying what failed), and bounded where waiting forever would hold something up: a Task fails,
a finalizer lets go. A transient blip (an API server restart) stays a few quiet retries."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from dtk_api import conditions as c
from dtk_api import resources as r
from dtk_api.textcaps import cut
from dtk_api.timefmt import format_time
from dtk_operator.engine.nodes import recorded_nodes
from dtk_operator.engine.services import Services
from dtk_operator.kube import events
from dtk_operator.kube.problems import describe

logger = logging.getLogger(__name__)

REASON_OPERATOR_ERROR: Final = "OperatorError"
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 60.0
REPORT_AFTER_FAILURES = 3  # 1 + 2 s of quiet retries first: an API blip should not alarm anyone
NODES_NAMED = 10  # by name in a CleanupAbandoned Event (kopf keeps 1,024 characters); the rest are counted
GIVE_UP_AFTER_FAILURES = 6  # 1 + 2 + 4 + 8 + 16 = 31 s of retries before a Task fails / a finalizer lets go


def backoff(failures: int) -> float:
    """Seconds before the next try, after `failures` failures in a row (1, 2, 4 ... 60)."""
    return float(min(RETRY_BASE_SECONDS * 2 ** max(failures - 1, 0), RETRY_CAP_SECONDS))


def _name(body: Mapping[str, Any]) -> tuple[str, str, int]:
    meta = body.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", "")), int(meta.get("generation") or 0)


async def report_stalled(services: Services, plural: str, body: Mapping[str, Any], *, failures: int,
                         error: str, retry_in: float) -> None:
    """A Warning Event and `Stalled=True` (reason OperatorError) on an instance or Assembly whose
    handler keeps failing; the next successful reconcile recomputes the conditions."""
    message = f"the operator failed {failures} times in a row: {error}; retrying in {retry_in:g} s"
    events.warning(body, reason=REASON_OPERATOR_ERROR, message=message)
    namespace, name, generation = _name(body)
    status = body.get("status") if isinstance(body.get("status"), Mapping) else {}
    conditions = c.set_condition(list((status or {}).get("conditions") or []), type_=c.STALLED, status="True",
                                 reason=REASON_OPERATOR_ERROR, message=message, now=datetime.now(UTC),
                                 generation=generation)
    with contextlib.suppress(Exception):  # the API may be what fails: the Event and the log still say it
        await services.kube.patch_status(plural, namespace, name, {"conditions": conditions})


async def fail_task(services: Services, body: Mapping[str, Any], *, failures: int, error: str) -> None:
    """Ends a Task whose run kept failing before it could run or record anything: SPEC 4's minimal
    terminal status (state, endedAt, failure, conditions), an Event, and the queue moves on."""
    message = f"operator error, given up after {failures} tries: {error}"
    namespace, name, generation = _name(body)
    status = body.get("status") if isinstance(body.get("status"), Mapping) else {}
    now = datetime.now(UTC)
    patch = {"state": "failed", "endedAt": format_time(now), "observedGeneration": generation,
             "failure": {"index": "", "node": "", "message": message},
             "conditions": c.task_conditions(list((status or {}).get("conditions") or []), state="failed",
                                             message=message, now=now, generation=generation)}
    await services.kube.patch_status(r.TASK_PLURAL, namespace, name, patch)
    events.warning(body, reason=c.REASON_TASK_FAILED, message=f"task {name} failed: {message}")
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    ref = (spec or {}).get("serviceInstanceRef")
    instance = str(ref.get("name", "")) if isinstance(ref, Mapping) else ""
    if instance:
        services.wakeup((namespace, instance)).set()


async def let_go(services: Services, body: Mapping[str, Any], *, why: str) -> None:
    """The finalizer gives up on an instance it cannot clean up: deletion goes on, and an Event
    says which machines may be left, so none is forgotten: how many, the first few by name and id,
    and the tags every EC2 machine of the instance carries. A big instance's member records are in
    its NodeShards, which the garbage collector deletes with it: they are read now or never.
    kopf cuts the middle out of a message over 1,024 characters, so what matters comes first and
    every part has a bound."""
    status = body.get("status") if isinstance(body.get("status"), Mapping) else None
    unread = ""
    nodes: list[Mapping[str, Any]]
    try:
        nodes = [n.to_status() for n in (await recorded_nodes(services, body)).values()]
    except Exception as error:  # the API may be what fails: say what could not be read
        nodes = [n for n in (status or {}).get("nodes") or [] if isinstance(n, Mapping)]
        if shards := (status or {}).get("nodeShards"):
            unread = f" (the records in {shards} NodeShard(s) could not be read: {cut(describe(error), 100)})"
    named = cut(", ".join(f"{n.get('name')} ({n.get('instanceId') or 'no id'})" for n in nodes[:NODES_NAMED]), 360)
    more = f" and {len(nodes) - NODES_NAMED} more" if len(nodes) > NODES_NAMED else ""
    meta = body.get("metadata") or {}
    tags = ""
    if any(str(n.get("instanceId") or "").startswith("i-") for n in nodes):  # EC2's ids; local nodes have none
        tags = f" (EC2 instances tagged {r.TAG_NAMESPACE}={meta.get('namespace')}, {r.TAG_INSTANCE}={meta.get('name')})"
    left = f"{len(nodes)} node(s) may still run{tags}{unread}: {named}{more}" if nodes else f"no node on record{unread}"
    events.warning(body, reason="CleanupAbandoned",
                   message=f"deletion went on without cleaning up; {left}; because {cut(why, 300, 'both')}")
