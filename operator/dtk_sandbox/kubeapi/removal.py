"""
Deletion as a real server does it: finalizers hold an object in "terminating"; once it is
finally gone, its dependents (ownerReferences) are collected; a namespace holds until empty.

Garbage collection and namespace cleanup go through the same deletion path as clients'
deletions, so the dependents' finalizers are honoured and the collection cascades.
"""
import dataclasses
from typing import TYPE_CHECKING, Any

from dtk_sandbox.kubeapi import objects
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.specs import ResourceSpec

if TYPE_CHECKING:  # the store owns a Removal; only the type is needed here
    from dtk_sandbox.kubeapi.store import Store

@dataclasses.dataclass(frozen=True)
class DeleteOptions:
    propagation: str = 'Background'  # Background and Foreground both collect dependents; Orphan keeps them
    uid: str | None = None  # preconditions: delete only this incarnation ...
    resource_version: str | None = None  # ... or only this version

    @classmethod
    def from_body(cls, body: Any) -> 'DeleteOptions':
        body = body if isinstance(body, dict) else {}
        preconditions = body.get('preconditions') or {}
        orphan = body.get('orphanDependents') is True
        return cls(propagation='Orphan' if orphan else body.get('propagationPolicy') or 'Background',
                   uid=preconditions.get('uid'), resource_version=preconditions.get('resourceVersion'))


class Removal:
    def __init__(self, store: 'Store') -> None:
        self._store = store

    def delete(self, spec: ResourceSpec, obj: Body, options: DeleteOptions) -> Body:
        if objects.is_terminating(obj):
            return obj  # already being deleted: the request is accepted and changes nothing
        is_namespace = spec.storage_key == ('', 'namespaces')
        if not objects.meta(obj).get('finalizers') and not is_namespace:
            return self._drop(spec, obj, orphan=options.propagation == 'Orphan')
        marked = self._mark_terminating(obj, is_namespace=is_namespace)
        self._store.put(spec, marked, old=obj)
        if is_namespace:
            self._drain(objects.meta(obj)['name'])
        self.release_if_done(spec, marked)
        return marked

    def release_if_done(self, spec: ResourceSpec, obj: Body) -> None:
        """Remove a terminating object once nothing holds it any more."""
        if not objects.is_terminating(obj) or objects.meta(obj).get('finalizers'):
            return
        if spec.storage_key == ('', 'namespaces') and self._store.indexes.namespace_size(objects.meta(obj)['name']):
            return
        current = self._store.find(self._store.ref(spec, obj))
        if current is not None:
            self._drop(spec, current, orphan=False)

    def _mark_terminating(self, obj: Body, *, is_namespace: bool) -> Body:
        now = objects.format_time(self._store.clock())
        marked = objects.with_meta(obj, deletionTimestamp=now, deletionGracePeriodSeconds=0,
                                   resourceVersion=str(self._store.next_rv()))
        if is_namespace:
            marked = {**marked, 'status': {**(marked.get('status') or {}), 'phase': 'Terminating'}}
        return marked

    def _drop(self, spec: ResourceSpec, obj: Body, *, orphan: bool) -> Body:
        gone = self._store.drop(spec, obj)
        uid = objects.meta(obj)['uid']
        if not orphan:
            self._collect_dependents(uid)
        namespace = objects.meta(obj).get('namespace')
        if namespace:
            self._release_namespace(namespace)
        return gone

    def _collect_dependents(self, owner_uid: str) -> None:
        # A dependent goes only when none of its owners is alive (it may have several).
        for ref in self._store.indexes.dependents(owner_uid):
            dependent = self._store.find(ref)
            spec = self._store.registry.preferred(ref[0])
            if dependent is None or spec is None:
                continue
            if any(self._store.indexes.uid_exists(uid) for uid in objects.owner_uids(dependent)):
                continue
            self.delete(spec, dependent, DeleteOptions())

    def _drain(self, namespace: str) -> None:
        for ref in self._store.refs_in_namespace(namespace):
            obj = self._store.find(ref)  # an earlier deletion may have collected it already
            spec = self._store.registry.preferred(ref[0])
            if obj is not None and spec is not None:
                self.delete(spec, obj, DeleteOptions())

    def _release_namespace(self, namespace: str) -> None:
        ns = self._store.find((('', 'namespaces'), '', namespace))
        spec = self._store.registry.preferred(('', 'namespaces'))
        if ns is not None and spec is not None:
            self.release_if_done(spec, ns)
