"""
The objects of all resources, and the rules of writing them: the heart of the emulator.

Every write goes through one path — stamp, admit, store, index, record the change — so that
resourceVersions, watch events and garbage collection cannot disagree. All methods are
synchronous: the server runs them on its event loop, so each call is atomic for the watchers.
"""
import collections
import datetime
import uuid
from collections.abc import Callable

from dtk_sandbox.kubeapi import errors, objects
from dtk_sandbox.kubeapi.admission.options import WriteOptions
from dtk_sandbox.kubeapi.changes import Change, ChangeLog
from dtk_sandbox.kubeapi.indexes import Indexes, ObjRef
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.registry import Registry
from dtk_sandbox.kubeapi.removal import DeleteOptions, Removal
from dtk_sandbox.kubeapi.specs import ResourceSpec, StorageKey

Admit = Callable[[ResourceSpec, Body, Body | None, WriteOptions], Body]  # (spec, new, old, options) -> new; raises
Observe = Callable[[ResourceSpec, Body | None, Body | None], None]  # (spec, old, new) after each change
Mutation = Callable[[Body], Body]  # the current object -> the desired one (a PUT body, a patch applied)

NAMESPACES: StorageKey = ('', 'namespaces')
NO_OPTIONS = DeleteOptions()


class Store:
    def __init__(self, *, registry: Registry, clock: Callable[[], datetime.datetime], history_limit: int) -> None:
        self.registry = registry
        self.changes = ChangeLog(limit=history_limit)
        self.admission: list[Admit] = []
        self.observers: list[Observe] = []
        self.clock = clock
        self._rv = 0
        self._objects: dict[StorageKey, dict[tuple[str, str], Body]] = collections.defaultdict(dict)
        self.indexes = Indexes()
        self._removal = Removal(self)

    @property
    def resource_version(self) -> int:
        return self._rv

    def next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def get(self, spec: ResourceSpec, namespace: str | None, name: str) -> Body:
        obj = self.find((spec.storage_key, namespace or '', name))
        if obj is None:
            raise errors.not_found(spec, name)
        return obj

    def find(self, ref: ObjRef) -> Body | None:
        return self._objects.get(ref[0], {}).get(ref[1:])

    def list_objects(self, spec: ResourceSpec, namespace: str | None) -> list[Body]:
        """The objects in the order a real server lists them (by namespace, then name)."""
        stored = self._objects.get(spec.storage_key, {})
        return [obj for (ns, _), obj in sorted(stored.items()) if namespace is None or ns == namespace]

    def refs_in_namespace(self, namespace: str) -> list[ObjRef]:
        return [(key, ns, name) for key, stored in self._objects.items() for ns, name in stored if ns == namespace]

    def create(self, spec: ResourceSpec, namespace: str | None, body: Body, *, dry_run: bool = False,
               options: WriteOptions | None = None) -> Body:
        metadata = objects.meta(body)
        name = metadata.get('name') or self._generate_name(spec, namespace, metadata.get('generateName') or '')
        if not name:
            raise errors.invalid(spec, '', 'metadata.name: Required value: name or generateName is required')
        if spec.namespaced and metadata.get('namespace') not in (None, '', namespace):
            raise errors.bad_request('the namespace of the provided object does not match '
                                     'the namespace sent on the request')
        if spec.namespaced:
            self._require_namespace(namespace or '')
        if self.find((spec.storage_key, namespace or '', name)) is not None:
            raise errors.already_exists(spec, name)
        obj = objects.for_create(body, spec=spec, name=name, namespace=namespace if spec.namespaced else None,
                                 uid=str(uuid.uuid4()), rv=self.next_rv(), now=self.clock())
        obj = self._admit(spec, obj, None, options)
        if not dry_run:
            self.put(spec, obj, old=None)
        return obj

    def update(self, spec: ResourceSpec, namespace: str | None, name: str, mutation: Mutation, *,
               subresource: str | None = None, dry_run: bool = False, options: WriteOptions | None = None) -> Body:
        old = self.get(spec, namespace, name)
        candidate = mutation(old)
        if not isinstance(candidate, dict):
            raise errors.bad_request('the body of the request must be an object')
        if objects.meta(candidate).get('name') not in (None, '', name):
            raise errors.bad_request(f'the name of the object ({objects.meta(candidate)["name"]}) '
                                     f'does not match the name on the URL ({name})')
        expected_rv = objects.meta(candidate).get('resourceVersion')
        if expected_rv and expected_rv != objects.meta(old).get('resourceVersion'):
            raise errors.conflict(spec, name)  # optimistic concurrency: the writer saw an older version
        new = self._admit(spec, objects.for_update(old, candidate, spec=spec, subresource=subresource), old, options)
        self._forbid_new_finalizers_when_terminating(spec, old, new)
        if objects.unchanged(old, new):
            return old  # no write, no new resourceVersion, no event: as the real server
        new = objects.stamp_update(old, new, rv=self.next_rv())
        if not dry_run:
            self.put(spec, new, old=old)
            self._removal.release_if_done(spec, new)
        return new

    def delete(self, spec: ResourceSpec, namespace: str | None, name: str,
               options: DeleteOptions = NO_OPTIONS, *, dry_run: bool = False) -> Body:
        obj = self.get(spec, namespace, name)
        if options.uid not in (None, objects.meta(obj).get('uid')):
            raise errors.conflict(spec, name)
        if options.resource_version not in (None, objects.meta(obj).get('resourceVersion')):
            raise errors.conflict(spec, name)
        return obj if dry_run else self._removal.delete(spec, obj, options)

    def put(self, spec: ResourceSpec, obj: Body, *, old: Body | None) -> None:
        """Store a new version (already stamped), index it, and tell watchers and observers."""
        ref = self.ref(spec, obj)
        self._objects[ref[0]][ref[1:]] = obj
        self.indexes.update(ref, old, obj)
        rv = int(objects.meta(obj)['resourceVersion'])
        self.changes.record(Change(rv=rv, key=ref[0], type='ADDED' if old is None else 'MODIFIED', obj=obj, old=old))
        for observe in list(self.observers):
            observe(spec, old, obj)

    def drop(self, spec: ResourceSpec, obj: Body) -> Body:
        """Remove an object for good; returns its last version, as the DELETED event carries it."""
        ref = self.ref(spec, obj)
        self._objects[ref[0]].pop(ref[1:], None)
        self.indexes.update(ref, obj, None)
        gone = objects.with_meta(obj, resourceVersion=str(self.next_rv()))
        self.changes.record(Change(rv=self._rv, key=ref[0], type='DELETED', obj=gone, old=obj))
        for observe in list(self.observers):
            observe(spec, obj, None)
        return gone

    def purge(self, spec: ResourceSpec) -> None:
        """Drop every object of a resource at once, finalizers or not (its CRD is gone)."""
        for obj in self.list_objects(spec, None):
            self.drop(spec, obj)

    @staticmethod
    def ref(spec: ResourceSpec, obj: Body) -> ObjRef:
        metadata = objects.meta(obj)
        return (spec.storage_key, metadata.get('namespace') or '', metadata['name'])

    def _generate_name(self, spec: ResourceSpec, namespace: str | None, prefix: str) -> str:
        # 5 random characters collide often enough among thousands of Events; like the real
        # server (RetryGenerateName, GA in 1.32) try a few more before answering 409.
        for _ in range(8):
            name = objects.generated_name(prefix) if prefix else ''
            if not name or self.find((spec.storage_key, namespace or '', name)) is None:
                return name
        return name

    def _admit(self, spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions | None) -> Body:
        options = options if options is not None else WriteOptions()
        for admit in self.admission:
            new = admit(spec, new, old, options)
        return new

    def _require_namespace(self, namespace: str) -> None:
        ns = self._objects[NAMESPACES].get(('', namespace))
        if ns is None:
            raise errors.ApiError(code=404, reason='NotFound', message=f'namespaces "{namespace}" not found',
                                  details={'name': namespace, 'kind': 'namespaces'})
        if objects.is_terminating(ns):
            raise errors.forbidden(f'unable to create new content in namespace {namespace} '
                                   f'because it is being terminated')

    @staticmethod
    def _forbid_new_finalizers_when_terminating(spec: ResourceSpec, old: Body, new: Body) -> None:
        added = set(objects.meta(new).get('finalizers') or []) - set(objects.meta(old).get('finalizers') or [])
        if objects.is_terminating(old) and added:
            raise errors.invalid(spec, objects.meta(old)['name'],
                                 'metadata.finalizers: Forbidden: no new finalizers can be added '
                                 'if the object is being deleted')
