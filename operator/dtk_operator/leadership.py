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
from collections.abc import Awaitable, Callable

from dtk_operator.kube.election import Keeper, acquire, release
from dtk_operator.kube.lease_api import LeaseApi
from dtk_operator.kube.leases import Election
from dtk_operator.standby import standing_by
from dtk_operator.stop_signals import StopSignals
from dtk_operator.targets.processes import REAPER

logger = logging.getLogger(__name__)

LEASE_LOST_EXIT_CODE = 3  # neither success (0) nor a usage error (2): the pod restarts and stands by
STEPS_KILL_SECONDS = 2.0  # how long a leader that lost the Lease waits for its steps to be killed
Operate = Callable[[], Awaitable[None]]  # kopf's operator: it stops on SIGTERM, or when cancelled


def give_up(reason: str) -> None:
    """A leader that lost the Lease: its steps die first, then the process, with no graceful shutdown."""
    logger.critical("leader election: lost the Lease (%s); killing step processes and exiting", reason)
    REAPER.reap_now(STEPS_KILL_SECONDS)
    logging.shutdown()
    os._exit(LEASE_LOST_EXIT_CODE)


def run_elected(election: Election, api: LeaseApi, *, operate: Operate, liveness: str,
                leading: Callable[[bool], None]) -> int:
    """The whole life of an electing operator process; returns its exit code."""
    with StopSignals(raising=False) as stop:
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
            with contextlib.suppress(asyncio.CancelledError):  # as kopf.run does
                asyncio.run(_operate(operate, stop))
        finally:
            stop.reinstall()  # kopf's loop had the signals, and reset them; a second one must not cut this short
            last = keeper.stop()
            REAPER.reap_now(STEPS_KILL_SECONDS)  # kopf's stop killed them; make sure before a standby starts any
            release(api, election, last)
            leading(False)
    return 0


async def _operate(operate: Operate, stop: StopSignals) -> None:
    """SIGTERM/SIGINT cancel kopf once this loop has taken them over, which kopf treats as a stop; one
    that came before sets the stop flag, checked after. (Not kopf's stop_flag: its waiter outlives a
    signal-driven stop and costs kopf's 5 s wait for hung tasks on every SIGTERM.)"""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    if task is None:
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, task.cancel)
    if not stop.is_set():  # checked after the loop took the signals over: one just before is not missed
        await operate()
