"""Follows one Task through a watch until it ends (driven by changes, not a fixed poll)."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Generator, Iterator
from http.client import HTTPException

from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES
from kubectl_dtk import exit_codes
from kubectl_dtk.api.client import Body, DtkClient
from kubectl_dtk.api.errors import ApiError, CommandError
from kubectl_dtk.api.shards import is_sharded, shard_rows, with_rows

# A watch connection lasts at most this long (seconds); when it ends quietly the current
# body is yielded again, so a caller gets a tick at least this often (CI heartbeats).
WATCH_WINDOW_SECONDS = 25
RECONNECT_PAUSE_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
# A big Task changes a few times a second and its shards weigh ~2.7 MB at 5,000 members: they are
# listed again at most this often, and at once when a stage row changes or the Task ends.
SHARD_REFRESH_SECONDS = 1.0


class FollowTimeout(CommandError):
    """The caller's --timeout passed before the Task ended (exit code 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_codes.TIMEOUT)


def is_finished(task: Body) -> bool:
    return str((task.get("status") or {}).get("state", "")) in TERMINAL_TASK_STATES


def _events(client: DtkClient, name: str, resource_version: str, window: int) -> Generator[Body, None, None]:
    for event in client.watch(r.TASK_PLURAL, name=name, resource_version=resource_version, timeout_seconds=window):
        kind = event.get("type")
        if kind == "DELETED":
            raise ApiError(f"task {name} was deleted", not_found=True)
        if kind == "ERROR":  # typically 410 Gone: our resourceVersion is too old; start over from a GET
            return
        if kind in ("ADDED", "MODIFIED"):
            yield event["object"]


def follow_task(client: DtkClient, name: str, *, timeout: float | None = None) -> Iterator[Body]:
    """Yields the Task now and after every change, until it has ended; raises FollowTimeout.
    A big Task comes with the rows of its shards (written before each change of the Task): read
    again when a stage row changed (a stage's end shows its rows' outcomes) or the Task ended,
    otherwise at most every SHARD_REFRESH_SECONDS. A change that came sooner leaves a read owed:
    the watch then ends after SHARD_REFRESH_SECONDS (the Task may not change again for long, one
    slow member left) and the Task is yielded again with its rows read then."""
    rows: list[list[object]] = []
    read_at, read_version, stages, owed = float("-inf"), "", None, False

    def longest_wait() -> float:
        return SHARD_REFRESH_SECONDS if owed else WATCH_WINDOW_SECONDS

    for task in _follow(client, name, timeout, longest_wait):
        if not is_sharded(task):
            yield task
            continue
        now, seen, version = time.monotonic(), _stage_states(task), _version(task)
        if version == read_version and now - read_at < SHARD_REFRESH_SECONDS:
            yield with_rows(task, rows)  # a quiet watch's look again, just after a read: nothing owed
            continue
        owed = not (seen != stages or is_finished(task) or now - read_at >= SHARD_REFRESH_SECONDS)
        if not owed:
            rows, read_at, read_version, stages = shard_rows(client, task), now, version, seen
        yield with_rows(task, rows)


def _version(task: Body) -> str:
    return str((task.get("metadata") or {}).get("resourceVersion", ""))


def _stage_states(task: Body) -> list[tuple[object, object]]:
    """A sharded Task's own rows are its top and stage rows."""
    return [(row.get("index"), row.get("status")) for row in (task.get("status") or {}).get("steps") or []]


def _follow(client: DtkClient, name: str, timeout: float | None, longest_wait: Callable[[], float]) -> Iterator[Body]:
    """The Task now, after each change, and again whenever `longest_wait()` seconds pass quietly."""
    deadline = time.monotonic() + timeout if timeout is not None else None
    task = client.get(r.TASK_PLURAL, name)
    yield task
    failures = 0
    while not is_finished(task):
        remaining = deadline - time.monotonic() if deadline is not None else float(WATCH_WINDOW_SECONDS)
        if remaining <= 0:
            raise FollowTimeout(f"task {name} did not finish within {timeout:g} s")
        window = max(1, math.ceil(min(WATCH_WINDOW_SECONDS, longest_wait(), remaining)))
        version = _version(task)
        ends = time.monotonic() + window
        try:
            with contextlib.closing(_events(client, name, version, window)) as events:
                for task in events:
                    failures = 0
                    yield task
                    if is_finished(task):
                        return
                    if time.monotonic() + longest_wait() < ends:
                        break  # the caller wants a look sooner than this watch would end: a shorter one
                else:
                    task = client.get(r.TASK_PLURAL, name)
                    yield task
        except (OSError, HTTPException) as error:  # requests' errors are OSErrors; http.client's are not
            if failures >= len(RECONNECT_PAUSE_SECONDS):
                raise ApiError(f"lost the connection to the API server: {error}") from error
            time.sleep(RECONNECT_PAUSE_SECONDS[failures])
            failures += 1

