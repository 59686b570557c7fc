"""The operator in a thread with its own event loop (sharing the API's loop makes stops slow)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from dtk_operator.engine.services import Options

START_TIMEOUT_SECONDS = 30.0  # kopf reaches its first watch in about 0.1-2 s; this catches a hang
STOP_TIMEOUT_SECONDS = 15.0


class OperatorThread:
    """kopf is stopped by cancelling its task, as `dtk-operator run --leader-elect` does, not with its
    stop_flag: a stop-flag stop gives kopf's unfinished sub-tasks a fixed 5 s, and a sandbox stopped
    just after it started always had one (the resource discovery, retrying on a closed connection)."""

    def __init__(self, *, options: Options, kubeconfig: Path, namespaces: tuple[str, ...] = ()) -> None:
        self.options, self.kubeconfig, self.namespaces = options, kubeconfig, namespaces
        self._lock = threading.Lock()  # orders the stop request against the thread taking its task
        self._stopping = False
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="dtk-operator", daemon=True)

    def _main(self) -> None:
        try:
            with contextlib.suppress(asyncio.CancelledError):
                asyncio.run(self._operate())
        except BaseException as error:
            self._error = error
        finally:
            self._ready.set()  # a start() still waiting learns of the failure (or of a stop) at once

    async def _operate(self) -> None:
        import kopf

        import dtk_operator.handlers
        import dtk_operator.settings  # noqa: F401

        task = asyncio.current_task()
        with self._lock:
            if self._stopping or task is None:
                return
            self._running = (asyncio.get_running_loop(), task)
        memo = kopf.Memo(options=self.options, kubeconfig=str(self.kubeconfig))
        # kopf stops gracefully when cancelled: its daemons get their stop request and cancellation backoff.
        await kopf.operator(clusterwide=not self.namespaces, namespaces=list(self.namespaces), standalone=True,
                            memo=memo, ready_flag=self._ready)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the operator did not start within {START_TIMEOUT_SECONDS:g} s")
        if self._error is not None:
            raise RuntimeError(f"the operator failed to start: {self._error!r}") from self._error

    def stop(self) -> None:
        """Safe at any moment: before start(), while starting, once running, or twice."""
        with self._lock:
            self._stopping = True
            running = self._running
        if running is not None:
            loop, task = running
            with contextlib.suppress(RuntimeError):  # the loop has already closed: kopf has stopped
                loop.call_soon_threadsafe(task.cancel)
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_SECONDS)
