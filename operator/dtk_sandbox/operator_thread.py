"""The sandbox's operator: kopf in a thread with its own event loop (sharing the API's loop makes stops
slow), stopped by cancellation (dtk_operator/kopf_thread.py says why)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from dtk_operator.engine.services import Options
from dtk_operator.kopf_thread import KopfThread

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0  # kopf reaches its first watch in about 0.1-2 s; this catches a hang
STOP_TIMEOUT_SECONDS = 15.0  # kopf's stop: 0.1-0.5 s idle; a Task run parks its status within a second


class OperatorThread:
    def __init__(self, *, options: Options, kubeconfig: Path, namespaces: tuple[str, ...] = ()) -> None:
        self.options, self.kubeconfig, self.namespaces = options, kubeconfig, namespaces
        self._ready = threading.Event()
        # Ended, by failure or by a stop: a start() still waiting learns of it at once.
        self._kopf = KopfThread(self._operate, name="dtk-operator", on_end=self._ready.set)

    async def _operate(self) -> None:
        import kopf

        import dtk_operator.handlers
        import dtk_operator.settings  # noqa: F401

        memo = kopf.Memo(options=self.options, kubeconfig=str(self.kubeconfig))
        await kopf.operator(clusterwide=not self.namespaces, namespaces=list(self.namespaces), standalone=True,
                            memo=memo, ready_flag=self._ready)

    def start(self) -> None:
        self._kopf.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the operator did not start within {START_TIMEOUT_SECONDS:g} s")
        if self._kopf.error is not None:
            raise RuntimeError(f"the operator failed to start: {self._kopf.error!r}") from self._kopf.error

    def stop(self) -> None:
        """Safe at any moment: before start(), while starting, once running, or twice."""
        self._kopf.cancel()
        if not self._kopf.join(STOP_TIMEOUT_SECONDS):
            logger.warning("the operator did not stop within %g s; leaving it to the process's exit",
                           STOP_TIMEOUT_SECONDS)
