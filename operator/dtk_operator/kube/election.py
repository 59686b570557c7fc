"""Leader election's loops over the Lease: a standby's wait, a leader's renewals, its release.

Synchronous, on purpose: they run on the main thread before kopf starts, then in a thread of their
own beside kopf's event loop, so a busy or stalled loop never delays a renewal. Every request has a
deadline (the renew deadline, or what is left of it), every retry waits the retry period. The
decisions are kube/leases.py's; this module only reads, writes and waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

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

logger = logging.getLogger(__name__)


class StopFlag(Protocol):
    """What a standby waits on: a threading.Event, or the process's stop signals (stop_signals.py)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Held:
    record: LeaseRecord  # as the last successful write stored it
    renewed_at: float  # monotonic seconds when that write was sent (never later than it was stored)


def acquire(api: LeaseApi, election: Election, stop: StopFlag) -> Held | None:
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
    timeout = election.timing.renew_deadline
    read = api.read(timeout=timeout)
    now = time.monotonic()  # after the read: a version first seen now was written no later than now
    sighting = sighted(sighting, read, now=now)
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
