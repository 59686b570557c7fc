"""Batched EC2 reads for one ServiceInstance: however many nodes wait, each poll round is one
DescribeInstances by tag, shared by every waiter (SPEC section 7)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from dtk_operator.aws.ec2 import GONE_STATES, Ec2Api, Instance
from dtk_operator.aws.errors import Report
from dtk_operator.targets.base import TargetError

FIRST_PAUSE_SECONDS = 0.2  # moto and a fast region answer within a round or two
MAX_PAUSE_SECONDS = 3.0  # a real instance needs 10-60 s to run: poll gently


@dataclass
class _Waiter:
    instance_id: str
    wanted: str
    deadline: float
    future: asyncio.Future[Instance]


class InstanceWatch:
    def __init__(self, api: Ec2Api, namespace: str, instance: str) -> None:
        self._api, self._namespace, self._instance = api, namespace, instance
        self._snapshot: asyncio.Future[list[Instance]] | None = None
        self._started = 0  # reads started so far: the one in flight is number _started
        self._waiters: list[_Waiter] = []
        self._poller: asyncio.Task[None] | None = None
        self.report: Report | None = None

    async def snapshot(self) -> list[Instance]:
        """The instance's machines now; callers arriving while a read is in flight share it."""
        if self._snapshot is None:
            self._started += 1
            self._snapshot = asyncio.ensure_future(self._api.instances_of(self._namespace, self._instance,
                                                                          self.report))
            self._snapshot.add_done_callback(lambda _: setattr(self, "_snapshot", None))
        return await asyncio.shield(self._snapshot)

    def mark(self) -> int:
        """A point in this watch's reads, for `fresh`."""
        return self._started

    async def fresh(self, since: int) -> list[Instance]:
        """A read started after `since` (a mark), so a launch or a tagging that ended before the
        mark is in it: a read started earlier could miss them, and then a batch would be launched
        twice. Callers marking in the same moment still share one read."""
        stale = self._snapshot
        if stale is not None and self._started <= since:
            await asyncio.wait({stale})
            if self._snapshot is stale:
                self._snapshot = None
        return await self.snapshot()

    async def wait_for(self, instance_id: str, wanted: str, *, timeout: float) -> Instance:
        """Until the machine reaches `wanted` (`terminated` also accepts a machine gone from view)."""
        waiter = _Waiter(instance_id, wanted, time.monotonic() + timeout, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            return await waiter.future
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    async def _poll(self) -> None:
        pause = FIRST_PAUSE_SECONDS
        while self._waiters:
            try:
                seen = {i.instance_id: i for i in await self.snapshot()}
            except Exception as error:
                for waiter in list(self._waiters):
                    _settle(waiter, error=error)
                return
            for waiter in list(self._waiters):
                _check(waiter, seen.get(waiter.instance_id))
            if self._waiters:
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)


def _settle(waiter: _Waiter, *, result: Instance | None = None, error: BaseException | None = None) -> None:
    if waiter.future.done():
        return
    if error is not None:
        waiter.future.set_exception(error)
    elif result is not None:
        waiter.future.set_result(result)


def _check(waiter: _Waiter, found: Instance | None) -> None:
    if waiter.wanted == "terminated" and (found is None or found.state == "terminated"):
        _settle(waiter, result=found or Instance(instance_id=waiter.instance_id, state="terminated"))
    elif found is not None and found.state == waiter.wanted:
        _settle(waiter, result=found)
    elif found is not None and found.state in GONE_STATES and waiter.wanted not in GONE_STATES:
        _settle(waiter, error=TargetError(f"instance {waiter.instance_id} is {found.state} "
                                          f"while waiting for it to be {waiter.wanted}"))
    elif time.monotonic() > waiter.deadline:
        state = found.state if found else "not visible"
        _settle(waiter, error=TargetError(f"instance {waiter.instance_id} is still {state}: it did not become "
                                          f"{waiter.wanted} in time"))
