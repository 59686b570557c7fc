"""
The URL scheme of resource endpoints, e.g.::

    /api/v1/namespaces                                   core, cluster-scoped list
    /api/v1/namespaces/default                           a namespace
    /api/v1/namespaces/default/status                    its status subresource
    /api/v1/namespaces/default/configmaps/x              a namespaced object
    /apis/example.io/v1/widgets                          all namespaces
    /apis/example.io/v1/namespaces/ns/widgets/x/status   a subresource
    /apis/example.io/v1/watch/namespaces/ns/widgets      the old watch prefix

Trailing slashes are ignored (pykube adds them).
"""
import dataclasses

# Subresources of a namespace object, to tell /namespaces/x/status from /namespaces/x/configmaps.
_NAMESPACE_SUBRESOURCES = ('status', 'finalize')


@dataclasses.dataclass(frozen=True)
class ResourcePath:
    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    watch_prefix: bool = False


def parse(path: str) -> ResourcePath | None:
    """A resource endpoint, or None for anything else (discovery, unknown paths)."""
    parts = [part for part in path.split('/') if part]
    if len(parts) >= 3 and parts[0] == 'api':
        group, version, rest = '', parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == 'apis':
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    watch_prefix = rest[0] == 'watch'
    rest = rest[1:] if watch_prefix else rest
    fields = _split(group, rest)
    if fields is None:
        return None
    plural, namespace, name, subresource = fields
    return ResourcePath(group=group, version=version, plural=plural, namespace=namespace, name=name,
                        subresource=subresource, watch_prefix=watch_prefix)


def _split(group: str, rest: list[str]) -> tuple[str, str | None, str | None, str | None] | None:
    """(plural, namespace, name, subresource) from the segments after the version."""
    namespaced = len(rest) >= 3 and rest[0] == 'namespaces'
    if namespaced and not group and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES:
        namespaced = False  # /api/v1/namespaces/x/status is a subresource of the namespace x
    if namespaced:
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = None
    if not rest or len(rest) > 3:
        return None
    plural = rest[0]
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    return plural, namespace, name, subresource
