"""Coalesced status writes: a burst of row changes costs one write, no change costs none."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence

from dtk_api.sharding import ShardRows
from dtk_operator.engine.shard_sink import ShardSink
from dtk_operator.kube.client import KubeClient, NotFound, Refused

Snapshot = Callable[[], Mapping[str, object]]
Shards = Callable[[], Sequence[ShardRows]]  # a big Task's rows below its stages, as of the last snapshot
Fallback = Callable[[str], Mapping[str, object]]  # the server's refusal -> a status it will take
logger = logging.getLogger(__name__)
_MAX_BACKOFF_SECONDS = 5.0
_FLUSH_ATTEMPTS = 8  # about 25 s of retries before a final write is given up (and logged)


class StatusWriter:
    def __init__(self, *, kube: KubeClient, plural: str, namespace: str, name: str, coalesce_seconds: float,
                 on_write: Callable[[], None] | None = None, fallback: Fallback | None = None,
                 shards: tuple[ShardSink, Shards] | None = None) -> None:
        self._on_write = on_write
        self._shards = shards
        self._fallback = fallback
        # The API server's refusal of a status (SPEC 4: a bug, but never a Task stuck `executing`).
        # Once set, only the fallback status is written: the full one would be refused again.
        self.refused = ""
        self._kube, self._plural, self._namespace, self._name = kube, plural, namespace, name
        self._coalesce = coalesce_seconds
        self._dirty = asyncio.Event()
        self._snapshot: Snapshot | None = None
        self._last: Mapping[str, object] | None = None
        self._loop: asyncio.Task[None] | None = None
        self._sending = asyncio.Lock()
        self._inflight: asyncio.Future[None] | None = None
        self.writes = 0

    def mark(self, snapshot: Snapshot) -> None:
        """Records that the status changed; `snapshot` is called only when the write happens."""
        self._snapshot = snapshot
        self._dirty.set()
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name=f"status-writer/{self._name}")

    async def _run(self) -> None:
        backoff = self._coalesce
        while True:
            await self._dirty.wait()
            await asyncio.sleep(backoff)
            self._dirty.clear()
            if await self._write():
                backoff = self._coalesce
            else:  # a temporary API error: keep the change pending and back off (capped)
                self._dirty.set()
                backoff = min(max(backoff * 2, 0.2), _MAX_BACKOFF_SECONDS)

    async def _write(self) -> bool:
        """True when the API holds the latest status (or the object is gone)."""
        if self._snapshot is None:
            return True
        status = self._fallback(self.refused) if self.refused and self._fallback else self._snapshot()
        shards = self._shards[1]() if self._shards is not None and not self.refused else ()
        if status == self._last and not (shards and self._shards and self._shards[0].changed(shards)):
            return True
        try:
            await self._send(None if status == self._last else status, shards)
        except NotFound:
            logger.info("%s/%s is gone; its status is no longer written", self._namespace, self._name)
            return True
        except Refused as error:
            if self.refused or self._fallback is None:
                logger.error("status of %s/%s refused by the API server: %s", self._namespace, self._name, error)
                return True  # nothing else to write; retrying the same write cannot succeed
            logger.error("status of %s/%s refused by the API server, writing a minimal terminal status "
                         "instead: %s", self._namespace, self._name, error)
            self.refused = str(error)
            return await self._write()
        except Exception as error:
            logger.warning("status write of %s/%s failed, will retry: %s", self._namespace, self._name, error)
            return False
        self._last = status
        self.writes += 1
        if self._on_write is not None:
            self._on_write()
        return True

    async def _send(self, status: Mapping[str, object] | None, shards: Sequence[ShardRows]) -> None:
        """One request at a time, applied in the order sent. Cancelling a caller (the loop, when a
        flush takes over) must not cancel its request: the HTTP call runs on in a thread and could
        land after a newer status, leaving an older one stored, e.g. a finished Task `executing`
        forever. So the request is shielded, and the next one waits until it has been answered.
        A big Task's changed shards go first: the Task never counts rows its shards do not hold."""
        async with self._sending:
            if self._inflight is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._inflight)
            self._inflight = asyncio.ensure_future(self._send_parts(status, shards))
            await asyncio.shield(self._inflight)

    async def _send_parts(self, status: Mapping[str, object] | None, shards: Sequence[ShardRows]) -> None:
        """`status` None: only shards changed (a row's output while the Task's own part stays)."""
        if shards and self._shards is not None:
            await self._shards[0].write(shards)
        if status is not None:
            await self._kube.patch_status(self._plural, self._namespace, self._name, status)

    async def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        self._dirty.clear()

    async def persisted(self) -> None:
        """Returns once the API server holds the latest status: a stage's outcome is stored before
        the next stage starts (SPEC 5), so a crash never runs a finished stage again. Retries with
        a capped backoff; the Task's supervisor bounds the wait (cancel, timeout, shutdown)."""
        await self._stop_loop()  # the next mark() starts it again
        delay = 0.2
        while not await self._write():
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF_SECONDS)

    async def flush(self) -> None:
        """Writes what is pending now and stops the background loop."""
        await self._stop_loop()
        delay = 0.2
        for _ in range(_FLUSH_ATTEMPTS):
            if await self._write():
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF_SECONDS)
        logger.error("final status of %s/%s could not be written", self._namespace, self._name)
