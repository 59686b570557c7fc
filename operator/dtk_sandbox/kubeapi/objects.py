"""
The server-owned parts of an object: what a real API server stamps, keeps and ignores on writes.

Pure functions over JSON-like dicts. Stored objects are never modified in place (watch events and
old versions share them), so every function here builds new dicts for what it changes.
"""
import datetime
import secrets
from typing import Any

from dtk_sandbox.kubeapi.specs import ResourceSpec

Body = dict[str, Any]

# Set by the server only; a client's values for them are ignored on create and on update.
_SERVER_FIELDS = ('uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
                  'deletionGracePeriodSeconds', 'managedFields')
# Fixed at creation; an update cannot change them.
_IMMUTABLE_FIELDS = ('name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp',
                     'deletionGracePeriodSeconds', 'generateName')
# The alphabet of the real server's generateName suffixes (no vowels, no look-alike characters).
_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` and whole seconds, as the API serialises ``metav1.Time``."""
    return moment.astimezone(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_time(value: str) -> datetime.datetime:
    return datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.UTC)


def generated_name(prefix: str) -> str:
    return prefix + ''.join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))


def meta(obj: Body) -> Body:
    value = obj.get('metadata')
    return value if isinstance(value, dict) else {}


def with_meta(obj: Body, **changes: Any) -> Body:
    """A copy with some metadata fields set (or removed, when the value is None)."""
    metadata = {**meta(obj), **changes}
    return {**obj, 'metadata': {key: value for key, value in metadata.items() if value is not None}}


def for_create(body: Body, *, spec: ResourceSpec, name: str, namespace: str | None,
               uid: str, rv: int, now: datetime.datetime) -> Body:
    """A new object as stored: identity and bookkeeping stamped, client-set server fields dropped."""
    metadata = {key: value for key, value in meta(body).items() if key not in _SERVER_FIELDS}
    metadata.update(name=name, uid=uid, resourceVersion=str(rv), generation=1, creationTimestamp=format_time(now))
    if namespace is not None:
        metadata['namespace'] = namespace
    else:
        metadata.pop('namespace', None)  # cluster-scoped: a namespace in the body means nothing
    obj = {**body, 'apiVersion': spec.api_version, 'kind': spec.kind, 'metadata': metadata}
    if spec.has_status:
        obj.pop('status', None)  # status is written through /status only, even at creation
    return obj


def for_update(old: Body, candidate: Body, *, spec: ResourceSpec, subresource: str | None) -> Body:
    """
    What an update may change: on ``/status`` only the status; on the main endpoint everything
    but the status (if the resource has a status subresource) and the immutable metadata.
    """
    if subresource == 'status':
        merged = {key: value for key, value in old.items() if key != 'status'}
        if 'status' in candidate:
            merged['status'] = candidate['status']
        return merged
    merged = {key: value for key, value in candidate.items() if key != 'status'}
    status_source = old if spec.has_status else candidate
    if 'status' in status_source:
        merged['status'] = status_source['status']
    metadata = {key: value for key, value in meta(candidate).items() if key not in _SERVER_FIELDS}
    metadata.update({key: meta(old)[key] for key in _IMMUTABLE_FIELDS if key in meta(old)})
    for key in _IMMUTABLE_FIELDS:
        if key not in meta(old):
            metadata.pop(key, None)
    merged.update(apiVersion=old['apiVersion'], kind=old['kind'], metadata=metadata)
    return merged


def stamp_update(old: Body, new: Body, *, rv: int) -> Body:
    """The new version's bookkeeping: a fresh resourceVersion; generation +1 if the "spec" changed."""
    generation = int(meta(old).get('generation') or 1)
    if _desired_state(old) != _desired_state(new):
        generation += 1
    return with_meta(new, resourceVersion=str(rv), generation=generation)


def unchanged(old: Body, new: Body) -> bool:
    """True if the write changes nothing; the real server then keeps the resourceVersion and emits no event."""
    def strip(obj: Body) -> Body:
        return with_meta(obj, resourceVersion=None, generation=None, managedFields=None)
    return strip(old) == strip(new)


def _desired_state(obj: Body) -> Body:
    # Everything but metadata and status (and the type identifiers) is the desired state.
    return {key: value for key, value in obj.items() if key not in ('metadata', 'status', 'apiVersion', 'kind')}


def owner_uids(obj: Body) -> set[str]:
    return {ref['uid'] for ref in meta(obj).get('ownerReferences') or [] if isinstance(ref, dict) and 'uid' in ref}


def is_terminating(obj: Body) -> bool:
    return bool(meta(obj).get('deletionTimestamp'))


def with_api_version(obj: Body, spec: ResourceSpec) -> Body:
    """The object as seen through one version of its resource (the versions share storage)."""
    return obj if obj.get('apiVersion') == spec.api_version else {**obj, 'apiVersion': spec.api_version}
