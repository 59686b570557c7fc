"""`dtk-operator run --leader-elect` (SPEC 9): take the Lease, then run kopf; keep it, or stop at once.

- As a standby the process runs no kopf at all (so no handler, daemon or timer): it checks the
  Lease every retry period, answering liveness probes (and serving /metrics) meanwhile.
- Once it holds the Lease it starts kopf; a thread of its own renews the Lease every retry period,
  whatever kopf's event loop is doing.
- A leader that has not renewed for the renew deadline, or finds the Lease taken, kills its step
  processes and exits with LEASE_LOST_EXIT_CODE at once: no graceful shutdown, which could itself
  outlast the lease duration. Its pod restarts as a standby.
- SIGTERM or SIGINT stops kopf (its Task runs park their status and kill their steps), then the Lease is
  released (holder cleared, duration 1 s), so a standby takes over at its next check. Further
  signals meanwhile change nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from dtk_operator.kopf_thread import KOPF_STOP_SECONDS, Operate, run_until_stopped
from dtk_operator.kube.election import Keeper, acquire, release
from dtk_operator.kube.lease_api import LeaseApi
from dtk_operator.kube.leases import Election
from dtk_operator.standby import standing_by
from dtk_operator.stop_signals import StopSignals
from dtk_operator.targets.processes import REAPER

logger = logging.getLogger(__name__)

LEASE_LOST_EXIT_CODE = 3  # neither success (0) nor a usage error (2): the pod restarts and stands by
STEPS_KILL_SECONDS = 2.0  # how long a leader that lost the Lease waits for its steps to be killed


def give_up(reason: str) -> None:
    """A leader that lost the Lease: its steps die first, then the process, with no graceful shutdown."""
    logger.critical("leader election: lost the Lease (%s); killing step processes and exiting", reason)
    REAPER.reap_now(STEPS_KILL_SECONDS)
    logging.shutdown()
    os._exit(LEASE_LOST_EXIT_CODE)


def run_elected(election: Election, api: LeaseApi, *, operate: Operate, liveness: str,
                leading: Callable[[bool], None]) -> int:
    """The whole life of an electing operator process; returns its exit code. The main thread only
    waits (as a standby, for the Lease; as the leader, for kopf's end): the signals are stop_signals.py's
    for the whole life, kopf runs in a thread of its own (kopf_thread.py says why)."""
    with StopSignals() as stop:
        logger.info("leader election: identity %s, Lease %s/%s; standing by until it is ours", election.identity,
                    election.namespace, election.name)
        with standing_by(liveness):
            held = acquire(api, election, stop)
        if held is None:
            logger.info("leader election: %s received while standing by; stopped",
                        stop.received.name if stop.received else "a stop signal")
            return 0
        leading(True)
        keeper = Keeper(api, election, held, lost=give_up)
        keeper.start()
        try:
            error = run_until_stopped(operate, stop, stop_seconds=KOPF_STOP_SECONDS)
        finally:
            last = keeper.stop()
            REAPER.reap_now(STEPS_KILL_SECONDS)  # kopf's stop killed them; make sure before a standby starts any
            release(api, election, last)
            leading(False)
    if error is not None:  # kopf ended on its own, failing: raised as kopf.run would, after the release
        raise error
    return 0
