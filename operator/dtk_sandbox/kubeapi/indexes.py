"""
Secondary indexes of the stored objects, so that deletion never scans everything:
uids (is an owner alive?), dependents by owner uid (what to collect), objects per namespace
(is a terminating namespace empty yet?).
"""
import collections

from dtk_sandbox.kubeapi import objects
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.specs import StorageKey

ObjRef = tuple[StorageKey, str, str]  # (resource, namespace or '' if cluster-scoped, name)


class Indexes:
    def __init__(self) -> None:
        self._uids: dict[str, ObjRef] = {}
        self._dependents: dict[str, set[ObjRef]] = {}  # owner uid -> objects naming it in ownerReferences
        self._namespace_sizes: collections.Counter[str] = collections.Counter()

    def update(self, ref: ObjRef, old: Body | None, new: Body | None) -> None:
        """Account for one change of one object: created (old is None), updated, or removed (new is None)."""
        old_owners = objects.owner_uids(old) if old is not None else set()
        new_owners = objects.owner_uids(new) if new is not None else set()
        for uid in old_owners - new_owners:
            dependents = self._dependents.get(uid, set())
            dependents.discard(ref)
            if not dependents:
                self._dependents.pop(uid, None)
        for uid in new_owners - old_owners:
            self._dependents.setdefault(uid, set()).add(ref)
        if new is not None:
            self._uids[objects.meta(new)['uid']] = ref
        elif old is not None:
            self._uids.pop(objects.meta(old)['uid'], None)
        if ref[1] and (old is None) != (new is None):
            self._namespace_sizes[ref[1]] += 1 if old is None else -1

    def uid_exists(self, uid: str) -> bool:
        return uid in self._uids

    def dependents(self, uid: str) -> list[ObjRef]:
        return sorted(self._dependents.get(uid, ()))

    def namespace_size(self, namespace: str) -> int:
        return self._namespace_sizes[namespace]
