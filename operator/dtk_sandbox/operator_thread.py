"""The operator in a thread with its own event loop (sharing the API's loop makes stops slow)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from dtk_operator.engine.services import Options

START_TIMEOUT_SECONDS = 30.0  # kopf reaches its first watch in about 0.1-2 s; this catches a hang
STOP_TIMEOUT_SECONDS = 15.0


class OperatorThread:
    def __init__(self, *, options: Options, kubeconfig: Path, namespaces: tuple[str, ...] = ()) -> None:
        self.options, self.kubeconfig, self.namespaces = options, kubeconfig, namespaces
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="dtk-operator", daemon=True)

    def _main(self) -> None:
        import kopf

        import dtk_operator.handlers
        import dtk_operator.settings  # noqa: F401

        memo = kopf.Memo(options=self.options, kubeconfig=str(self.kubeconfig))
        try:
            asyncio.run(kopf.operator(
                clusterwide=not self.namespaces, namespaces=list(self.namespaces), standalone=True, memo=memo,
                stop_flag=self._stop, ready_flag=self._ready,
            ))
        except BaseException as error:
            self._error = error
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the operator did not start within {START_TIMEOUT_SECONDS:g} s")
        if self._error is not None:
            raise RuntimeError(f"the operator failed to start: {self._error!r}") from self._error

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STOP_TIMEOUT_SECONDS)
