"""A watch on one namespace's Tasks that timestamps each event the moment its line arrives.

Plain http.client rather than the kubernetes client's Watch: that one cannot be interrupted
while it blocks on a quiet stream, and stopping must be prompt and bounded. Its reads are the
same as any client's: one JSON event a line over a chunked response.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from dtk_api import resources as r

JOIN_TIMEOUT_SECONDS = 5.0  # the reader ends as soon as its socket is shut down; this bounds a surprise
CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Seen:
    """One watch event and when the client read it (time.perf_counter seconds)."""

    at: float
    type: str
    obj: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name", ""))

    @property
    def instance(self) -> str:
        return str((self.obj.get("metadata", {}).get("labels") or {}).get(r.INSTANCE_LABEL, ""))

    @property
    def state(self) -> str:
        return str((self.obj.get("status") or {}).get("state", ""))


class TaskWatch:
    def __init__(self, *, server: str, token: str, namespace: str) -> None:
        parts = urlsplit(server)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the benchmarks watch the local emulator over plain http, not {server}")
        self._host, self._port = parts.hostname, parts.port or 80
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._path = f"/apis/{r.GROUP}/{r.VERSION}/namespaces/{namespace}/{r.TASK_PLURAL}"
        self._events: list[Seen] = []
        self._changed = threading.Condition()
        self._ended: str | None = None  # why the stream ended, once it has
        self._stopping = False
        self._conn: http.client.HTTPConnection | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TaskWatch:
        self._conn = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            version = self._list_version(self._conn)
            self._conn.request("GET", f"{self._path}?watch=true&resourceVersion={version}", headers=self._headers)
            response = self._conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"watch refused: HTTP {response.status} {response.read()[:300]!r}")
        except BaseException:
            self._conn.close()
            raise
        if self._conn.sock is not None:
            self._conn.sock.settimeout(None)  # a quiet stream is normal; stop() ends the wait
        self._thread = threading.Thread(target=self._read, args=(response,), name="task-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping = True
        stop_reader(self._conn, self._thread)

    def _list_version(self, conn: http.client.HTTPConnection) -> str:
        conn.request("GET", self._path, headers=self._headers)
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"listing tasks failed: HTTP {response.status} {body}")
        return str(body["metadata"]["resourceVersion"])

    def _read(self, response: http.client.HTTPResponse) -> None:
        """Ends when the server closes the stream or stop() shuts the socket down."""
        reason = "the server closed the watch"
        try:
            while line := response.readline():
                at = time.perf_counter()  # before parsing: the moment the client has the event
                event = json.loads(line)
                with self._changed:
                    self._events.append(Seen(at=at, type=str(event["type"]), obj=event["object"]))
                    self._changed.notify_all()
        except (OSError, http.client.HTTPException, ValueError) as error:
            reason = "stopped" if self._stopping else f"the watch failed: {error!r}"
        with self._changed:
            self._ended = reason
            self._changed.notify_all()

    def wait_for(self, what: str, predicate: Callable[[Seen], bool], *, timeout: float, since: int = 0) -> Seen:
        """The first event from position `since` on that satisfies `predicate`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        position = since
        with self._changed:
            while True:
                for seen in self._events[position:]:
                    if predicate(seen):
                        return seen
                position = len(self._events)
                remaining = deadline - time.monotonic()
                if self._ended is not None:
                    raise RuntimeError(f"waiting for {what}: {self._ended}")
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
                self._changed.wait(remaining)

    def wait_quiet(self, task: str, *, quiet: float, timeout: float) -> None:
        """Returns once `task` has had no event for `quiet` s (late writes after its end have landed)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                last = max((s.at for s in self._events if s.name == task), default=None)
                if last is None:
                    return  # never seen at all: nothing to wait for
                silent_for = time.perf_counter() - last
                if silent_for >= quiet:
                    return
                if self._ended is not None:
                    raise RuntimeError(f"waiting for task {task} to go quiet: {self._ended}")
                if time.monotonic() + quiet - silent_for > deadline:
                    raise TimeoutError(f"task {task} kept changing for {timeout:g} s")
                self._changed.wait(quiet - silent_for)

    def mark(self) -> int:
        """A position to pass as `since`: only events after this moment are considered."""
        with self._changed:
            return len(self._events)

    def events_of(self, task: str) -> list[Seen]:
        with self._changed:
            return [seen for seen in self._events if seen.name == task]


def stop_reader(conn: http.client.HTTPConnection | None, thread: threading.Thread | None) -> None:
    """Ends a watch's reader thread: shutting its socket down wakes it from recv()."""
    if conn is not None and conn.sock is not None:
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)
    if thread is not None:
        thread.join(JOIN_TIMEOUT_SECONDS)
    if conn is not None:
        conn.close()
