"""Runs one Task from its current status to the end: queue, plan, stages, outcome (SPEC 5)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

from dtk_api import resources as r
from dtk_api import transitions as t
from dtk_api.plan import Plan
from dtk_api.sharding import merge
from dtk_api.task_status import Failure
from dtk_api.task_wire import RawStep, from_status, step_from_raw, step_to_raw
from dtk_api.templating import TemplateError
from dtk_api.validation import check_task_spec
from dtk_operator.engine.instances import refresh_instance
from dtk_operator.engine.leaves import LeafContext, LeafRunner
from dtk_operator.engine.nodes import NodeRecorder
from dtk_operator.engine.planning import plan_task
from dtk_operator.engine.queue import wait_turn
from dtk_operator.engine.run_state import RunState, refusal_message
from dtk_operator.engine.services import InstanceKey, Services
from dtk_operator.engine.shard_sink import ShardSink, read_shard_rows
from dtk_operator.engine.stages import run_stages
from dtk_operator.engine.tasks import adopt
from dtk_operator.engine.writer import StatusWriter
from dtk_operator.kube import events
from dtk_operator.metrics_record import record_outcome
from dtk_operator.targets.base import NodeFacts, TargetError

logger = logging.getLogger(__name__)
SUPERVISE_POLL_SECONDS = 0.1  # how quickly a cancel, a timeout or a shutdown is noticed


class TaskRunner:
    def __init__(self, services: Services, task: Mapping[str, Any], *, stopping: Callable[[], bool]) -> None:
        """`task` is kopf's live body: it follows the object, so `spec.cancel` is seen at once."""
        self.services, self.task, self.stopping = services, task, stopping
        meta = task["metadata"]
        self.namespace, self.name = str(meta["namespace"]), str(meta["name"])
        spec = _mapping(task.get("spec"))  # a malformed Task is refused in _run, never crashes here
        self.instance: InstanceKey = (self.namespace, str(_mapping(spec.get("serviceInstanceRef")).get("name", "")))
        status = from_status(task.get("status") or {})
        writer = StatusWriter(kube=services.kube, plural=r.TASK_PLURAL, namespace=self.namespace, name=self.name,
                              coalesce_seconds=services.options.status_coalesce_seconds,
                              on_write=services.metrics.status_writes.labels(r.TASK_KIND).inc,
                              fallback=lambda refusal: self.run.refused_status(refusal),
                              shards=(ShardSink(services.kube, namespace=self.namespace, task=task),
                                      lambda: self.run.shard_rows))
        self.workflow = str(spec.get("workflow") or "")
        conditions = list((task.get("status") or {}).get("conditions") or [])
        self.run = RunState(status=status, writer=writer, generation=int(meta.get("generation") or 1),
                            conditions=conditions, task_name=self.name)

    def cancelled(self) -> bool:
        return _mapping(self.task.get("spec")).get("cancel") is True

    async def __call__(self) -> None:
        if self.run.status.is_terminal:
            return
        try:
            await self._read_shards()
            await self._run()
        finally:
            await self.run.writer.flush()
            self.services.wakeup(self.instance).set()
            with contextlib.suppress(Exception):
                await refresh_instance(self.services, *self.instance)

    async def _read_shards(self) -> None:
        """A big Task resumed after a restart: its rows below the stages are in its shards."""
        if not (self.task.get("status") or {}).get("shards"):
            return
        uid = str(self.task["metadata"].get("uid") or "")
        rows = await read_shard_rows(self.services.kube, self.namespace, self.name, uid)
        kept = [step_to_raw(step) for step in self.run.status.steps]
        steps = tuple(step_from_raw(cast(RawStep, raw)) for raw in merge(kept, rows))
        self.run.status = replace(self.run.status, steps=steps)

    async def _run(self) -> None:
        instance = await self.services.kube.get(r.INSTANCE_PLURAL, *self.instance)
        problem = check_task_spec(self.task.get("spec"))
        if problem:  # at once, not after its turn in the queue: nothing about it can run
            return self._end("failed", f"task is invalid: {problem}", invalid=True, instance=instance)
        if instance is not None:
            await adopt(self.services, self.task, instance)
        if self.run.status.state == "pending":
            turn = await wait_turn(self.services, self.run, self.task, instance=self.instance,
                                   cancelled=self.cancelled, stopping=self.stopping)
            if turn == "stopped":
                return
            if turn == "cancelled":
                return self._end("cancelled", "cancelled before it started")
        instance = await self.services.kube.get(r.INSTANCE_PLURAL, *self.instance)
        if instance is None:
            return self._end("failed", f"service instance '{self.instance[1]}' not found", invalid=True)
        try:
            planned = await plan_task(self.services, self.task, self.run.status, instance)
        except TemplateError as error:
            return self._end("failed", f"task is invalid: {error}", invalid=True, instance=instance)
        try:
            target = await self.services.targets.for_instance(instance)
        except TargetError as error:
            return self._end("failed", f"the target is not usable: {error}", invalid=True, instance=instance)
        if self.run.status.state == "executing":  # an earlier operator life ran it
            await self._reap_previous_life()
        self._prepare(planned.plan, planned.nodes, instance)
        await self.run.writer.flush()  # users see `executing` and the tree before the first command ends
        await refresh_instance(self.services, *self.instance)
        leaf = LeafRunner(self.run, LeafContext(
            namespace=self.namespace, instance=self.instance[1], task=self.name, target=target,
            bindings=planned.bindings,
            remember=NodeRecorder(self.services, self.namespace, self.instance[1],
                                  gather_seconds=self.services.options.status_coalesce_seconds).remember,
        ))
        await self._supervise(leaf, instance)

    async def _reap_previous_life(self) -> None:
        """Steps die with their operator (SPEC 5); this makes sure of it before any row runs again:
        what the previous life was running on this host for the rows still to run is killed first."""
        # Every row not stored as succeeded will run (again): a row's start may not have been
        # stored before the crash, so `executing` alone would miss some.
        to_run = [s.index for s in self.run.status.steps if s.status != "succeeded"]
        killed = await self.services.targets.local.reap(*self.instance, self.name, to_run)
        if killed:
            self.run.log("notification", f"killed {len(killed)} step process(es) left running by the previous "
                                         "operator run before running its rows again")

    def _prepare(self, plan: Plan, nodes: Mapping[str, NodeFacts], instance: Mapping[str, Any]) -> None:
        self.run.plan, self.run.nodes = plan, dict(nodes)
        if not self.run.status.steps:
            self.run.apply(lambda s, now: replace(s, steps=plan.steps, plan_hash=plan.digest))
        else:
            self.run.apply(t.reset_interrupted)
        if self.run.status.state != "executing":
            self.run.apply(t.begin)
            self.services.metrics.tasks.labels(self.workflow, "executing").inc()
            self.run.log("notification", f"task {self.name} started: workflow {self.task['spec']['workflow']}")
            self._announce("TaskStarted", f"task {self.name} started", instance)
        else:
            self.run.log("notification", f"task {self.name} resumed after an operator restart")

    async def _supervise(self, leaf: LeafRunner, instance: Mapping[str, Any]) -> None:
        started = self.run.status.started_at or self.run.clock()
        timeout = int(self.task["spec"].get("timeoutSeconds") or r.DEFAULT_TASK_TIMEOUT_SECONDS)  # checked in _run
        deadline = started + timedelta(seconds=timeout)
        job = asyncio.create_task(run_stages(self.run, leaf))
        while not job.done():
            await asyncio.wait({job}, timeout=SUPERVISE_POLL_SECONDS)
            if job.done():
                break
            if self.stopping():  # shutdown or Task deleted: leave the status for a resume
                return await _stop(job)
            if self.cancelled():
                await _stop(job)
                self.run.interrupt("cancelled", "cancelled")
                return self._end("cancelled", "cancelled by request", instance=instance)
            if self.run.writer.refused:  # the API server will not store this run: stop it, say why
                await _stop(job)
                message = refusal_message(self.run.writer.refused)
                self.run.interrupt("failed", message)
                return self._end("failed", message, instance=instance)
            if self.run.clock() >= deadline:
                await _stop(job)
                message = f"task timed out after {timeout} s"
                self.run.interrupt("failed", message)
                return self._end("failed", message, instance=instance)
        self._conclude(job, instance)

    def _conclude(self, job: asyncio.Task[bool], instance: Mapping[str, Any]) -> None:
        error = job.exception()
        if error is not None:
            stack = "".join(traceback.format_exception(error))
            self.run.log("error", f"operator error: {error!r}", stacktrace=stack)
            return self._end("failed", f"operator error: {error!r}", instance=instance)
        ok = job.result()
        failure = self.run.status.failure
        message = "" if ok or failure is None else failure.message
        self._end("succeeded" if ok else "failed", message, instance=instance)

    def _end(self, state: str, message: str, *, invalid: bool = False,
             instance: Mapping[str, Any] | None = None) -> None:
        failure = Failure(index="", node="", message=message) if state == "failed" and message else None
        # The spec may have changed since the run began (`cancel: true` bumps the generation): the
        # final status has seen it, or kstatus would read the ended Task as still in progress.
        self.run.generation = int(self.task["metadata"].get("generation") or self.run.generation)
        if invalid:
            self.run.log("error", message)
        self.run.finish(state, failure=failure)
        record_outcome(self.services.metrics, self.workflow, self.run.status)
        self.run.log("notification" if state == "succeeded" else "error", f"task {self.name} {state}"
                     + (f": {message}" if message else ""))
        reason = {"succeeded": "TaskSucceeded", "failed": "TaskFailed", "cancelled": "TaskCancelled"}[state]
        self._announce(reason, f"task {self.name} {state}" + (f": {message}" if message else ""), instance,
                       warning=state != "succeeded")

    def _announce(
        self, reason: str, message: str, instance: Mapping[str, Any] | None, *, warning: bool = False
    ) -> None:
        post = events.warning if warning else events.normal
        for body in (self.task, instance):
            if body is not None:
                post(body, reason=reason, message=message)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


async def _stop(job: asyncio.Task[bool]) -> None:
    job.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await job
