"""`dtk-operator run --leader-elect` (SPEC 9): take the Lease, then run kopf; keep it, or stop at once.

- As a standby the process runs no kopf at all (so no handler, daemon or timer): it checks the
  Lease every retry period, answering liveness probes (and serving /metrics) meanwhile.
- Once it holds the Lease it starts kopf; a thread of its own renews the Lease every retry period,
  whatever kopf's event loop is doing.
- A leader that has not renewed for the renew deadline, or finds the Lease taken, kills its step
  processes and exits with LEASE_LOST_EXIT_CODE at once: no graceful shutdown, which could itself
  outlast the lease duration. Its pod restarts as a standby.
- SIGTERM stops kopf (its Task runs park their status and kill their steps), then the Lease is
  released (holder cleared, duration 1 s), so a standby takes over at its next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from dtk_operator.kube.lease_api import Contended, LeaseApi, LeaseUnavailable
from dtk_operator.kube.leases import (
    Election,
    LeaseRecord,
    Move,
    Sighting,
    claimed,
    decide,
    gave_up,
    next_check,
    released,
    sighted,
)
from dtk_operator.standby import standing_by
from dtk_operator.targets.processes import REAPER

logger = logging.getLogger(__name__)

LEASE_LOST_EXIT_CODE = 3  # neither success (0) nor a usage error (2): the pod restarts and stands by
STEPS_KILL_SECONDS = 2.0  # how long a leader that lost the Lease waits for its steps to be killed
Operate = Callable[[], Awaitable[None]]  # kopf's operator: it stops on SIGTERM, or when cancelled


@dataclass(frozen=True)
class Held:
    record: LeaseRecord  # as the last successful write stored it
    renewed_at: float  # monotonic seconds when that write was sent (never later than it was stored)


def _now() -> datetime:
    return datetime.now(UTC)


def acquire(api: LeaseApi, election: Election, stop: threading.Event) -> Held | None:
    """Waits as a standby until this process holds the Lease (None: stopped first). Each check
    reads the Lease and, when it is free or expired, claims it by replacing the version read."""
    sighting: Sighting | None = None
    problem, holder = "", ""
    while True:
        try:
            sighting, held = _attempt(api, election, sighting)
            if held is not None:
                logger.info("leader election: this process (%s) now holds Lease %s/%s", election.identity,
                            election.namespace, election.name)
                return held
            if sighting is not None and sighting.record.holder != holder:
                holder = sighting.record.holder
                logger.info("leader election: standing by; Lease %s/%s held by %s", election.namespace,
                            election.name, holder)
            problem = ""
        except Contended:
            logger.info("leader election: another candidate took Lease %s/%s first", election.namespace,
                        election.name)
        except LeaseUnavailable as error:
            problem = _report(problem, str(error))
        if stop.wait(next_check(sighting, timing=election.timing, now=time.monotonic())):
            return None


def _attempt(api: LeaseApi, election: Election, sighting: Sighting | None) -> tuple[Sighting | None, Held | None]:
    """One check: read, then claim the Lease if it is free, expired or already ours."""
    timeout, now = election.timing.renew_deadline, time.monotonic()
    sighting = sighted(sighting, api.read(timeout=timeout), now=now)
    if decide(sighting, identity=election.identity, now=now) is Move.WAIT:
        return sighting, None
    record = None if sighting is None else sighting.record
    spec = claimed(record, identity=election.identity, timing=election.timing, wall=_now())
    sent = time.monotonic()
    stored = api.create(spec, timeout=timeout) if record is None else \
        api.replace(record.resource_version, spec, timeout=timeout)
    return sighting, Held(stored, sent)


def _report(previous: str, problem: str) -> str:
    if problem != previous:  # once per distinct problem, not every retry period
        logger.warning("leader election: %s; retrying every retry period", problem)
    return problem


class Keeper(threading.Thread):
    """Renews the Lease every retry period; calls `lost` (once) when it no longer can."""

    def __init__(self, api: LeaseApi, election: Election, held: Held, *, lost: Callable[[str], None]) -> None:
        super().__init__(name="lease-keeper", daemon=True)
        self.api, self.election, self.held, self._lost = api, election, held, lost
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            reason = self._keep()
        except BaseException as error:  # a leader that no longer renews must not go on working
            reason = f"the renewal loop failed: {error!r}"
        if reason:
            self._lost(reason)

    def _keep(self) -> str:
        timing, problem = self.election.timing, ""
        while True:
            until_deadline = self.held.renewed_at + timing.renew_deadline - time.monotonic()
            if self._stopping.wait(max(0.0, min(timing.retry_period, until_deadline))):
                return ""
            if gave_up(self.held.renewed_at, timing=timing, now=time.monotonic()):
                return f"could not renew the Lease for {timing.renew_deadline:g} s ({problem or 'no answer'})"
            try:
                self._renew(until=self.held.renewed_at + timing.renew_deadline)
                problem = ""
            except Contended as error:
                return str(error)
            except LeaseUnavailable as error:
                problem = _report(problem, str(error))

    def _renew(self, *, until: float) -> None:
        record, sent = self.held.record, time.monotonic()
        spec = claimed(record, identity=self.election.identity, timing=self.election.timing, wall=_now())
        try:
            self.held = Held(self.api.replace(record.resource_version, spec, timeout=until - sent), sent)
        except Contended:  # someone wrote it: still ours (a label edit, say), or taken?
            current = self.api.read(timeout=until - time.monotonic())
            if current is None or current.holder != self.election.identity:
                holder = "deleted" if current is None else f"now held by {current.holder or 'nobody'}"
                raise Contended(f"the Lease was {holder}") from None
            self.held = Held(current, self.held.renewed_at)  # renewed with this version next time

    def stop(self) -> Held:
        """Stops renewing (the caller releases); returns what the last renewal stored."""
        self._stopping.set()
        self.join(self.election.timing.renew_deadline + 1)
        return self.held


def release(api: LeaseApi, election: Election, held: Held) -> None:
    """One try, bounded by the renew deadline; if it fails the Lease still expires on its own."""
    try:
        api.replace(held.record.resource_version, released(held.record, wall=_now()),
                    timeout=election.timing.renew_deadline)
        logger.info("leader election: released Lease %s/%s", election.namespace, election.name)
    except (Contended, LeaseUnavailable) as error:
        logger.warning("leader election: could not release Lease %s/%s (%s); a standby takes over when it "
                       "expires, within %d s", election.namespace, election.name, error,
                       election.timing.lease_duration)


def give_up(reason: str) -> None:
    """A leader that lost the Lease: its steps die first, then the process, with no graceful shutdown."""
    logger.critical("leader election: lost the Lease (%s); killing step processes and exiting", reason)
    REAPER.reap_now(STEPS_KILL_SECONDS)
    logging.shutdown()
    os._exit(LEASE_LOST_EXIT_CODE)


def run_elected(election: Election, api: LeaseApi, *, operate: Operate, liveness: str,
                leading: Callable[[bool], None]) -> int:
    """The whole life of an electing operator process; returns its exit code."""
    stop = threading.Event()
    _catch_stop_signals(stop)
    logger.info("leader election: identity %s, Lease %s/%s; standing by until it is ours", election.identity,
                election.namespace, election.name)
    with standing_by(liveness):
        held = acquire(api, election, stop)
    if held is None:
        logger.info("leader election: stopped while standing by")
        return 0
    leading(True)
    keeper = Keeper(api, election, held, lost=give_up)
    keeper.start()
    try:
        with contextlib.suppress(asyncio.CancelledError):  # as kopf.run does
            asyncio.run(_operate(operate, stop))
    finally:
        _catch_stop_signals(stop)  # a second SIGTERM must not cut the release short
        last = keeper.stop()
        REAPER.reap_now(STEPS_KILL_SECONDS)  # kopf's stop killed them; make sure before a standby starts any
        release(api, election, last)
        leading(False)
    return 0


async def _operate(operate: Operate, stop: threading.Event) -> None:
    """kopf takes SIGTERM/SIGINT over once it has started; a signal before that cancels it, which
    kopf treats as a stop. (Not kopf's stop_flag: its waiter outlives a signal-driven stop and costs
    kopf's 5 s wait for hung tasks on every SIGTERM.)"""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    if task is None or stop.is_set():
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, task.cancel)
    await operate()


def _catch_stop_signals(stop: threading.Event) -> None:
    def handler(number: int, frame: FrameType | None) -> None:
        logger.info("leader election: %s received", signal.Signals(number).name)
        stop.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, handler)
