"""The leader election's decisions (kube/leases.py), on a clock the tests drive.

What must hold whatever the timing: a candidate never takes a Lease its holder still renews, and
never before a holder that stopped renewing has given up (so two operators never work at once);
it takes a Lease nobody renews within the lease duration plus a moment, and a released one at once.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from dtk_operator.kube.client import api_client_from
from dtk_operator.kube.election import Held, acquire, release
from dtk_operator.kube.lease_api import LeaseApi
from dtk_operator.kube.leases import (
    Election,
    LeaseRecord,
    Move,
    Sighting,
    Timing,
    claimed,
    decide,
    gave_up,
    micro_time,
    next_check,
    record_from,
    released,
    sighted,
)
from dtk_operator.kube.login import context_namespace
from dtk_sandbox.kubeapi import ServedApi, write_kubeconfig

WALL = datetime(2026, 11, 26, 14, 0, 0, 123456, tzinfo=UTC)
DEFAULT = Timing()


def record(holder: str = "op-a", *, rv: str = "7", renewed: str = "2026-11-26T14:00:00.000000Z",
           duration: int = 15, transitions: int = 2) -> LeaseRecord:
    return LeaseRecord(holder=holder, duration_seconds=duration, acquire_time="2026-11-26T13:00:00.000000Z",
                       renew_time=renewed, transitions=transitions, resource_version=rv)


def test_the_defaults_are_controller_runtimes_and_consistent() -> None:
    assert (DEFAULT.lease_duration, DEFAULT.renew_deadline, DEFAULT.retry_period) == (15, 10.0, 2.0)
    assert DEFAULT.problem() is None
    assert Election(namespace="ns", name="dtk-operator", identity="op-a").timing == DEFAULT


@pytest.mark.parametrize(("timing", "problem"), [
    (Timing(lease_duration=10, renew_deadline=10), "--lease-duration must be more than --renew-deadline"),
    (Timing(renew_deadline=2.4, retry_period=2), "--renew-deadline must be more than 1.2 x --retry-period"),
    (Timing(retry_period=0), "--retry-period must be more than 0"),
])
def test_inconsistent_timings_are_refused_in_the_flags_words(timing: Timing, problem: str) -> None:
    assert timing.problem() == problem


def test_no_lease_is_created_a_free_one_taken_and_ours_renewed() -> None:
    assert decide(None, identity="op-b", now=0) is Move.CREATE
    assert decide(Sighting(record(""), since=0), identity="op-b", now=0) is Move.TAKE
    assert decide(Sighting(record("op-b"), since=0), identity="op-b", now=0) is Move.RENEW


def test_someone_elses_lease_is_taken_only_once_unchanged_for_its_duration_on_our_clock() -> None:
    seen = Sighting(record("op-a", duration=15), since=100.0)
    assert decide(seen, identity="op-b", now=114.999) is Move.WAIT
    assert decide(seen, identity="op-b", now=115.0) is Move.TAKE


def test_a_sighting_keeps_its_first_seen_time_until_the_lease_really_changes() -> None:
    first = sighted(None, record(rv="7"), now=10.0)
    assert first == Sighting(record(rv="7"), 10.0)
    assert sighted(first, record(rv="7"), now=12.0) == first
    relabelled = sighted(first, record(rv="8"), now=12.0)  # a metadata-only write is not a renewal
    assert relabelled is not None and relabelled.since == 10.0 and relabelled.record.resource_version == "8"
    renewed = sighted(first, record(rv="9", renewed="2026-11-26T14:00:02.000000Z"), now=12.0)
    assert renewed is not None and renewed.since == 12.0
    assert sighted(first, None, now=12.0) is None


def test_a_waiting_candidate_checks_every_retry_period_or_at_expiry_if_sooner() -> None:
    assert next_check(None, timing=DEFAULT, now=0) == 2.0
    seen = Sighting(record(duration=15), since=100.0)
    assert next_check(seen, timing=DEFAULT, now=101.0) == 2.0
    assert next_check(seen, timing=DEFAULT, now=114.5) == pytest.approx(0.5)
    assert next_check(seen, timing=DEFAULT, now=120.0) == 0.0


def test_a_leader_gives_up_a_renew_deadline_after_its_last_renewal_was_sent() -> None:
    assert not gave_up(50.0, timing=DEFAULT, now=59.999)
    assert gave_up(50.0, timing=DEFAULT, now=60.0)


def simulate(*, stop_renewing_at: float, candidate_offset: float, timing: Timing = DEFAULT,
             horizon: float = 120.0) -> tuple[float, float]:
    """A leader renewing every retry period from time 0 until `stop_renewing_at` (it dies or loses
    the network), and a candidate checking on its own schedule (first check at `candidate_offset`).
    Returns (when the old leader gave up, when the candidate took the Lease)."""
    renewals = [i * timing.retry_period for i in range(int(stop_renewing_at / timing.retry_period) + 1)]
    last_renewal = renewals[-1]
    now, sighting = candidate_offset, None

    def stored_at(t: float) -> LeaseRecord:  # what a read at time t returns: the latest renewal by then
        latest = max(r for r in renewals if r <= t)
        return record("op-a", renewed=micro_time(datetime.fromtimestamp(1.8e9 + latest, UTC)))

    while now < horizon:
        sighting = sighted(sighting, stored_at(now), now=now)
        if decide(sighting, identity="op-b", now=now) is Move.TAKE:
            return last_renewal + timing.renew_deadline, now
        now += next_check(sighting, timing=timing, now=now) or 1e-3
    raise AssertionError("the candidate never took the Lease")


@pytest.mark.parametrize("offset", [0.0, 0.3, 0.99, 1.5, 1.999])
@pytest.mark.parametrize("stop", [0.0, 7.0, 31.0])
def test_a_candidate_takes_over_only_after_the_old_leader_gave_up_and_within_17_s(offset: float, stop: float) -> None:
    gave_up_at, taken_at = simulate(stop_renewing_at=stop, candidate_offset=offset)
    last_renewal = gave_up_at - DEFAULT.renew_deadline
    # The candidate first sees the last renewal after it was written: 15 s from then, the leader has
    # been gone (given up) for 5 s.
    assert taken_at - gave_up_at >= DEFAULT.lease_duration - DEFAULT.renew_deadline
    assert taken_at - last_renewal <= DEFAULT.lease_duration + DEFAULT.retry_period


def test_a_lease_renewed_every_retry_period_is_never_taken() -> None:
    with pytest.raises(AssertionError, match="never took"):
        simulate(stop_renewing_at=200.0, candidate_offset=0.7, horizon=150.0)


def test_claiming_names_us_and_counts_a_transition_only_when_the_holder_changes() -> None:
    created = claimed(None, identity="op-a", timing=DEFAULT, wall=WALL)
    assert created == {"holderIdentity": "op-a", "leaseDurationSeconds": 15, "acquireTime": micro_time(WALL),
                       "renewTime": micro_time(WALL), "leaseTransitions": 0}
    renewed = claimed(record("op-a", transitions=2), identity="op-a", timing=DEFAULT, wall=WALL)
    assert renewed["acquireTime"] == "2026-11-26T13:00:00.000000Z" and renewed["leaseTransitions"] == 2
    assert renewed["renewTime"] == "2026-11-26T14:00:00.123456Z"
    taken = claimed(record("op-a", transitions=2), identity="op-b", timing=DEFAULT, wall=WALL)
    assert taken["holderIdentity"] == "op-b" and taken["acquireTime"] == micro_time(WALL)
    assert taken["leaseTransitions"] == 3


def test_releasing_clears_the_holder_and_shortens_the_lease_to_a_second_as_client_go_does() -> None:
    spec = released(record("op-a", transitions=4), wall=WALL)
    assert spec == {"holderIdentity": None, "leaseDurationSeconds": 1, "acquireTime": micro_time(WALL),
                    "renewTime": micro_time(WALL), "leaseTransitions": 4}
    freed = record_from({"metadata": {"resourceVersion": "9"}, "spec": spec})
    assert decide(Sighting(freed, since=0.0), identity="op-b", now=0.0) is Move.TAKE  # at once


def test_a_lease_is_read_tolerantly_as_client_go_reads_it() -> None:
    assert record_from({"metadata": {"resourceVersion": "3"}, "spec": {}}) == LeaseRecord(
        holder="", duration_seconds=0, acquire_time="", renew_time="", transitions=0, resource_version="3")
    assert micro_time(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "2026-01-02T03:04:05.000006Z"


# The loops over a real API (the emulator, over HTTP): the create race and a release.

FAST = Timing(lease_duration=3, renew_deadline=2.0, retry_period=0.2)  # only to keep these tests short


def candidates(kubeconfig: Path, count: int) -> list[tuple[LeaseApi, Election]]:
    return [(LeaseApi(api_client_from(str(kubeconfig)), "default", "race"),
             Election(namespace="default", name="race", identity=f"c{i}", timing=FAST)) for i in range(count)]


def test_of_candidates_racing_for_a_new_lease_exactly_one_holds_it_and_a_release_hands_it_on(tmp_path: Path) -> None:
    with ServedApi() as served:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", served.url)
        racing = candidates(kubeconfig, 6)
        stop, held = threading.Event(), dict[str, Held]()
        start = threading.Barrier(len(racing))

        def run(api: LeaseApi, election: Election) -> None:
            start.wait()
            won = acquire(api, election, stop)
            if won is not None:
                held[election.identity] = won

        threads = [threading.Thread(target=run, args=pair) for pair in racing]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(1.0)  # five retry periods: the others still wait
        assert len(held) == 1
        [(winner, lease)] = held.items()
        api, election = next(pair for pair in racing if pair[1].identity == winner)
        assert api.read(timeout=5) == lease.record and lease.record.holder == winner

        released_at = time.monotonic()
        release(api, election, lease)
        while len(held) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        handed_on = time.monotonic() - released_at
        stop.set()
        for thread in threads:
            thread.join(10)
        assert len(held) == 2 and handed_on < 2 * FAST.retry_period + 0.5  # the next check takes it
        second = next(identity for identity in held if identity != winner)
        current = api.read(timeout=5)
        assert current is not None and current.holder == second and current.transitions == 1


def test_the_default_lease_namespace_is_the_kubeconfig_contexts_as_kubectl_reads_it(tmp_path: Path) -> None:
    def kubeconfig(name: str, namespace: str | None) -> str:
        context: dict[str, str] = {"cluster": "c", "user": "u"}
        if namespace:
            context["namespace"] = namespace
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"current-context": "ctx", "contexts": [{"name": "ctx", "context": context}],
                                        "clusters": [{"name": "c", "cluster": {"server": "https://x"}}],
                                        "users": [{"name": "u", "user": {}}]}))
        return str(path)

    assert context_namespace(kubeconfig("ops", "ops")) == "ops"
    assert context_namespace(kubeconfig("none", None)) is None
    # Merged files ($KUBECONFIG): the first file to name the context wins, as kubectl merges.
    assert context_namespace(os.pathsep.join([kubeconfig("first", "team-a"), kubeconfig("second", "team-b")])) \
        == "team-a"
