"""Leader election over a coordination.k8s.io/v1 Lease: the decisions, pure (time is a parameter).

client-go's rules (tools/leaderelection), which controller-runtime uses:
- a candidate takes a Lease that does not exist, that names no holder, or that has not changed for
  its leaseDurationSeconds, measured on the candidate's own clock from when it first saw that
  version: never by comparing renewTime with its own clock, as two machines' clocks may disagree;
- every write replaces the version the writer read (its resourceVersion): of two candidates
  writing the same version the API server lets one win and answers 409 to the other;
- a leader whose renewals have failed for the renew deadline gives up before any candidate can
  take over (lease duration > renew deadline, so a slow leader stops first);
- a leader that stops cleanly releases: holder cleared, duration 1 s (client-go's ReleaseOnCancel).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

DEFAULT_LEASE_NAME = "dtk-operator"
JITTER = 1.2  # client-go's JitterFactor: the renew deadline must leave room for a retry and its jitter
RELEASED_DURATION_SECONDS = 1


@dataclass(frozen=True)
class Timing:
    """Seconds, controller-runtime's defaults; the SPEC fixes them (section 9)."""

    lease_duration: int = 15  # a candidate takes a Lease unchanged this long (an int: the Lease field is)
    renew_deadline: float = 10.0  # a leader that has not renewed for this long stops working and exits
    retry_period: float = 2.0  # between two tries: a candidate's checks, a leader's renewals

    def problem(self) -> str | None:
        """client-go's refusals of inconsistent timings, in the flags' words; None when usable."""
        if self.retry_period <= 0:
            return "--retry-period must be more than 0"
        if self.lease_duration <= self.renew_deadline:
            return "--lease-duration must be more than --renew-deadline"
        if self.renew_deadline <= JITTER * self.retry_period:
            return f"--renew-deadline must be more than {JITTER:g} x --retry-period"
        return None


@dataclass(frozen=True)
class Election:
    """Which Lease, who we are (unique per process), and how fast."""

    namespace: str
    name: str
    identity: str
    timing: Timing = Timing()


@dataclass(frozen=True)
class LeaseRecord:
    """What a Lease says, as read; times are the stored MicroTime text (never compared with ours)."""

    holder: str  # "" when nobody holds it
    duration_seconds: int
    acquire_time: str
    renew_time: str
    transitions: int
    resource_version: str


@dataclass(frozen=True)
class Sighting:
    """A version of the Lease and when this candidate first saw it (monotonic seconds)."""

    record: LeaseRecord
    since: float

    @property
    def expires(self) -> float:
        return self.since + self.record.duration_seconds


class Move(enum.Enum):
    CREATE = "create"  # no Lease yet
    TAKE = "take"  # released or expired: replace it, naming us
    RENEW = "renew"  # ours: replace it with a fresh renewTime
    WAIT = "wait"  # someone else holds it and it is still valid


def sighted(previous: Sighting | None, record: LeaseRecord | None, *, now: float) -> Sighting | None:
    """The candidate's view after a read: the same content keeps its first-seen time (a change of
    resourceVersion alone, say a label edit, is not a renewal), anything else starts a new one."""
    if record is None:
        return None
    if previous is not None and _content(previous.record) == _content(record):
        return Sighting(record, previous.since)
    return Sighting(record, now)


def _content(record: LeaseRecord) -> LeaseRecord:
    return replace(record, resource_version="")


def decide(sighting: Sighting | None, *, identity: str, now: float) -> Move:
    if sighting is None:
        return Move.CREATE
    if sighting.record.holder == identity:
        return Move.RENEW
    if not sighting.record.holder or now >= sighting.expires:
        return Move.TAKE
    return Move.WAIT


def next_check(sighting: Sighting | None, *, timing: Timing, now: float) -> float:
    """Seconds a waiting candidate sleeps: the retry period, or less when the Lease expires sooner,
    so a takeover comes at expiry rather than up to a retry period after it."""
    if sighting is None:
        return timing.retry_period
    return max(0.0, min(timing.retry_period, sighting.expires - now))


def gave_up(renewed_at: float, *, timing: Timing, now: float) -> bool:
    """True once a leader's last successful renewal (when its request was sent) is a renew deadline old."""
    return now - renewed_at >= timing.renew_deadline


def micro_time(moment: datetime) -> str:
    """Kubernetes' MicroTime wire form, as client-go writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def claimed(record: LeaseRecord | None, *, identity: str, timing: Timing, wall: datetime) -> dict[str, Any]:
    """The Lease spec naming us, renewed now; taking it from anyone else (a released Lease too)
    counts a transition, as client-go counts them."""
    now = micro_time(wall)
    if record is None:
        return _spec(identity, timing.lease_duration, now, now, 0)
    if record.holder == identity:
        return _spec(identity, timing.lease_duration, record.acquire_time, now, record.transitions)
    return _spec(identity, timing.lease_duration, now, now, record.transitions + 1)


def released(record: LeaseRecord, *, wall: datetime) -> dict[str, Any]:
    """client-go's release: nobody holds it, and it would expire in a second anyway."""
    now = micro_time(wall)
    return _spec("", RELEASED_DURATION_SECONDS, now, now, record.transitions)


def _spec(holder: str, duration: int, acquired: str, renewed: str, transitions: int) -> dict[str, Any]:
    return {"holderIdentity": holder or None, "leaseDurationSeconds": duration, "acquireTime": acquired,
            "renewTime": renewed, "leaseTransitions": transitions}


def record_from(body: Mapping[str, Any]) -> LeaseRecord:
    """A Lease as the API serves it (JSON), tolerant of absent fields as client-go is."""
    spec = body.get("spec") or {}
    return LeaseRecord(holder=str(spec.get("holderIdentity") or ""),
                       duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
                       acquire_time=str(spec.get("acquireTime") or ""), renew_time=str(spec.get("renewTime") or ""),
                       transitions=int(spec.get("leaseTransitions") or 0),
                       resource_version=str((body.get("metadata") or {}).get("resourceVersion") or ""))
