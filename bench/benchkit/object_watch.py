"""Watches on the kinds the operator writes: the largest version of each, and a Task's last version.

Unlike benchkit.watch.TaskWatch, nothing but sizes is kept (and the newest version of each Task):
at 5,000 members the "before" code writes a Task of about 1.5 MB hundreds of times, which would
hold gigabytes if every event were kept. The size of a version is its compact JSON, as the
API server returns it: the same measure as tests/support/sizes.py.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from benchkit.watch import stop_reader
from dtk_api import resources as r

CONNECT_TIMEOUT_SECONDS = 10.0

Body = dict[str, Any]


def json_bytes(body: Body) -> int:
    return len(json.dumps(body, separators=(",", ":")).encode())


@dataclass
class KindFigures:
    plural: str
    served: bool = True  # False: the API server has no such kind (the "before" code has no shards)
    versions: int = 0
    largest: int = 0
    largest_name: str = ""


@dataclass
class Latest:
    """The newest version of one Task and when the client read it (time.perf_counter)."""

    at: float
    body: Body = field(repr=False)


class KindWatch:
    def __init__(self, *, host: str, port: int, token: str, namespace: str, plural: str,
                 changed: threading.Condition, latest: dict[str, Latest] | None) -> None:
        self.figures = KindFigures(plural)
        self._address = (host, port)
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._path = f"/apis/{r.GROUP}/{r.VERSION}/namespaces/{namespace}/{plural}"
        self._changed, self._latest = changed, latest
        self._conn: http.client.HTTPConnection | None = None
        self._thread: threading.Thread | None = None
        self.failure = ""

    def start(self) -> None:
        self._conn = http.client.HTTPConnection(*self._address, timeout=CONNECT_TIMEOUT_SECONDS)
        self._conn.request("GET", self._path, headers=self._headers)
        listed = self._conn.getresponse()
        raw = listed.read()
        if listed.status == 404:
            self.figures.served = False
            return
        version = json.loads(raw)["metadata"]["resourceVersion"]
        self._conn.request("GET", f"{self._path}?watch=true&resourceVersion={version}", headers=self._headers)
        response = self._conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"watch on {self.figures.plural} refused: HTTP {response.status}")
        if self._conn.sock is not None:
            self._conn.sock.settimeout(None)  # a quiet stream is normal; stop() ends the wait
        self._thread = threading.Thread(target=self._read, args=(response,), daemon=True,
                                        name=f"watch-{self.figures.plural}")
        self._thread.start()

    def _read(self, response: http.client.HTTPResponse) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            while line := response.readline():
                at = time.perf_counter()
                event = json.loads(line)
                if event.get("type") not in ("ADDED", "MODIFIED"):
                    continue
                body: Body = event["object"]
                self._see(at, body)

    def _see(self, at: float, body: Body) -> None:
        size, name = json_bytes(body), str(body["metadata"]["name"])
        with self._changed:
            self.figures.versions += 1
            if size > self.figures.largest:
                self.figures.largest, self.figures.largest_name = size, name
            if self._latest is not None:
                self._latest[name] = Latest(at, body)
            self._changed.notify_all()

    def stop(self) -> None:
        stop_reader(self._conn, self._thread)


class ObjectWatch:
    """One KindWatch per plural; the Tasks' newest versions kept for `wait_task`."""

    def __init__(self, *, host: str, port: int, token: str, namespace: str, plurals: tuple[str, ...]) -> None:
        self._changed = threading.Condition()
        self.tasks: dict[str, Latest] = {}
        self.watches = [KindWatch(host=host, port=port, token=token, namespace=namespace, plural=p,
                                  changed=self._changed, latest=self.tasks if p == r.TASK_PLURAL else None)
                        for p in plurals]

    def __enter__(self) -> ObjectWatch:
        try:
            for watch in self.watches:
                watch.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        for watch in self.watches:
            watch.stop()

    def figures(self) -> list[KindFigures]:
        with self._changed:
            return [KindFigures(**vars(w.figures)) for w in self.watches]

    def wait_task(self, done: Callable[[Latest], bool], *, timeout: float) -> Latest | None:
        """The first Task version (newest of each Task) for which `done` holds; None at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((t for t in self.tasks.values() if done(t)), None)
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self._changed.wait(min(remaining, 1.0))

    def newest_task(self) -> Latest | None:
        with self._changed:
            return max(self.tasks.values(), key=lambda t: t.at, default=None)
