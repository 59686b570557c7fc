"""
The change log behind watches: a bounded history of changes plus live subscriptions.

A watch subscribes and reads the history (or the current state) in the same synchronous step,
so nothing can happen in between: there is no gap and no duplicate between the initial events
and the live ones. Memory is bounded twice: the history keeps the last ``limit`` changes (older
resourceVersions get 410 Expired, like a compacted etcd), and a subscriber that falls ``limit``
changes behind is dropped with the same 410 instead of buffering without end.
"""
import asyncio
import collections
import dataclasses
from typing import Any

from dtk_sandbox.kubeapi import errors
from dtk_sandbox.kubeapi.specs import StorageKey

Body = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Change:
    rv: int
    key: StorageKey
    type: str  # ADDED, MODIFIED, DELETED
    obj: Body  # the new version; for DELETED, the last one (with the deletion's resourceVersion)
    old: Body | None  # the previous version, so that selectors can turn MODIFIED into ADDED/DELETED


class Subscription:
    """One watcher's queue of live changes of one resource; ``None`` in the queue means "stop"."""

    def __init__(self, key: StorageKey, limit: int) -> None:
        self.key = key
        self.expired = False
        self._limit = limit
        self._queue: asyncio.Queue[Change | None] = asyncio.Queue()

    def push(self, change: Change) -> None:
        if self.expired:
            return
        if self._queue.qsize() >= self._limit:
            self.expired = True  # the watcher is too slow: end it; it re-lists like after a 410
            self._queue.put_nowait(None)
        else:
            self._queue.put_nowait(change)

    def close(self) -> None:
        self._queue.put_nowait(None)

    async def next(self) -> Change | None:
        return await self._queue.get()


class ChangeLog:
    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._history: collections.deque[Change] = collections.deque()
        self._forgotten_rv = 0  # the newest resourceVersion dropped from the history
        self._subscribers: dict[StorageKey, set[Subscription]] = collections.defaultdict(set)

    def record(self, change: Change) -> None:
        self._history.append(change)
        while len(self._history) > self._limit:
            self._forgotten_rv = self._history.popleft().rv
        for subscription in list(self._subscribers.get(change.key, ())):
            subscription.push(change)

    def since(self, rv: int, key: StorageKey) -> list[Change]:
        """The changes of one resource after ``rv``; 410 if the history no longer reaches back that far."""
        if rv < self._forgotten_rv:
            raise errors.expired(f'too old resource version: {rv} ({self._forgotten_rv + 1})')
        result: list[Change] = []
        for change in reversed(self._history):  # newest first: a recent rv costs only the recent changes
            if change.rv <= rv:
                break
            if change.key == key:
                result.append(change)
        result.reverse()
        return result

    def subscribe(self, key: StorageKey) -> Subscription:
        subscription = Subscription(key, self._limit)
        self._subscribers[key].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers[subscription.key].discard(subscription)

    @property
    def watchers(self) -> int:
        """How many watches are open (each one holds a subscription until it ends)."""
        return sum(len(subscriptions) for subscriptions in self._subscribers.values())

    def close_all(self) -> None:
        """End every watch, e.g. before the server stops, so that nothing waits on a client."""
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.close()
