"""
Serving the emulator over HTTP: in the current event loop, or in a thread with its own loop.

The thread matters: kopf sharing an event loop with the API takes 5 s to stop (TOOLCHAIN.md),
and tests or the sandbox want a plain ``url`` and ``stop()``. The aiohttp machinery is the one
kmock's ``Server`` uses, minus kmock's process-wide DNS interception, which must be undone in
LIFO order and so breaks when several emulators in threads stop in another order.
"""
import asyncio
import concurrent.futures
import contextlib
import pathlib
import threading
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Self, TypeVar

from aiohttp import web

from dtk_sandbox.kubeapi.emulator import KubeApiEmulator

T = TypeVar('T')
SHUTDOWN_TIMEOUT = 2.0  # seconds for in-flight requests at stop; watches are ended before, so it is rarely used
START_TIMEOUT = 10.0  # seconds; binding a local port takes milliseconds, so this only catches a hung thread


@contextlib.asynccontextmanager
async def serving(emulator: KubeApiEmulator, *, host: str = '127.0.0.1', port: int = 0) -> AsyncIterator[str]:
    """Serve in the running loop; yields the base URL (port 0 picks a free port)."""
    # handler_cancellation: a client that disconnects cancels its handler, so its watch ends at once.
    runner = web.ServerRunner(web.Server(emulator, handler_cancellation=True), shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        async with emulator:  # kmock's lifecycle: the feeder of its DSL streams
            try:
                yield f'http://{_reachable(bound_host)}:{bound_port}'
            finally:
                emulator.close_watches()
    finally:
        await runner.cleanup()


def _reachable(host: str) -> str:
    # A wildcard address is where the server listens, not where clients connect: use the loopback.
    host = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(host, host)
    return f'[{host}]' if ':' in host else host


class ServedApi:
    """An emulator served in a background thread with its own event loop."""

    def __init__(self, emulator: KubeApiEmulator | None = None, *, host: str = '127.0.0.1', port: int = 0) -> None:
        self.emulator = emulator if emulator is not None else KubeApiEmulator()
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name='kubeapi-emulator', daemon=True)

    @property
    def url(self) -> str:
        return self._started.result(timeout=0)

    def start(self) -> str:
        self._thread.start()
        return self._started.result(timeout=START_TIMEOUT)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` in the server's loop (the store is not thread-safe) and return its result."""
        if self._loop is None:
            raise RuntimeError('the server is not running')
        async def run() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def install_crds(self, directory: str | pathlib.Path) -> list[str]:
        return self.call(lambda: self.emulator.install_crds(directory))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start(), which re-raises it
            if not self._started.done():
                self._started.set_exception(error)

    async def _serve(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        async with serving(self.emulator, host=self._host, port=self._port) as url:
            self._started.set_result(url)
            await self._stopping.wait()


def serve_in_thread(emulator: KubeApiEmulator | None = None, *, host: str = '127.0.0.1', port: int = 0) -> ServedApi:
    """Start serving in a thread; ``.url`` is the base URL, ``.stop()`` stops it."""
    served = ServedApi(emulator, host=host, port=port)
    served.start()
    return served
