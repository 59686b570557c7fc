"""
Discovery documents: how clients learn which resources exist, their kinds, scopes and names.

Served in the legacy (unaggregated) form only. kubectl 1.32 asks for the aggregated
``apidiscovery.k8s.io/v2`` form first and falls back to these when the reply is plain JSON.
"""
from typing import Any

from dtk_sandbox.kubeapi.registry import Registry
from dtk_sandbox.kubeapi.specs import ALL_VERBS, STATUS_VERBS, ResourceSpec

Body = dict[str, Any]
SERVER_VERSION: Body = {
    'major': '1', 'minor': '32', 'gitVersion': 'v1.32.0-dtk-sandbox', 'gitCommit': 'emulated',
    'gitTreeState': 'clean', 'buildDate': '2024-12-11T00:00:00Z', 'goVersion': 'go1.23.3',
    'compiler': 'gc', 'platform': 'linux/amd64',
}


def document(registry: Registry, path: str) -> Body | None:
    """The discovery document at ``path``; None if the path is not a discovery endpoint (or unknown)."""
    parts = [part for part in path.split('/') if part]
    match parts:
        case []:
            return _root(registry)
        case ['version']:
            return SERVER_VERSION
        case ['api']:
            return {'kind': 'APIVersions', 'versions': ['v1'],
                    'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': ''}]}
        case ['api', version]:
            return _resource_list(registry, '', version)
        case ['apis']:
            groups = registry.groups()
            return {'kind': 'APIGroupList', 'apiVersion': 'v1',
                    'groups': [_group(name, versions) for name, versions in sorted(groups.items())]}
        case ['apis', group]:
            versions = registry.groups().get(group)
            return None if versions is None else {'kind': 'APIGroup', 'apiVersion': 'v1', **_group(group, versions)}
        case ['apis', group, version]:
            return _resource_list(registry, group, version)
    return None


def _root(registry: Registry) -> Body:
    paths = {'/api', '/api/v1', '/apis', '/version', '/healthz', '/livez', '/readyz'}
    for group, versions in registry.groups().items():
        paths |= {f'/apis/{group}'} | {f'/apis/{group}/{version}' for version in versions}
    return {'paths': sorted(paths)}


def _group(name: str, versions: list[str]) -> Body:
    entries = [{'groupVersion': f'{name}/{version}', 'version': version} for version in versions]
    return {'name': name, 'versions': entries, 'preferredVersion': entries[0]}


def _resource_list(registry: Registry, group: str, version: str) -> Body | None:
    specs = sorted(registry.in_group_version(group, version), key=lambda spec: spec.plural)
    if not specs:
        return None
    resources = []
    for spec in specs:
        resources.append(_resource(spec))
        if spec.has_status:
            resources.append({'name': f'{spec.plural}/status', 'singularName': '', 'namespaced': spec.namespaced,
                              'kind': spec.kind, 'verbs': list(STATUS_VERBS)})
    return {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': spec.api_version, 'resources': resources}


def _resource(spec: ResourceSpec) -> Body:
    resource: Body = {'name': spec.plural, 'singularName': spec.singular or spec.kind.lower(),
                      'namespaced': spec.namespaced, 'kind': spec.kind, 'verbs': list(ALL_VERBS)}
    if spec.short_names:
        resource['shortNames'] = list(spec.short_names)
    if spec.categories:
        resource['categories'] = list(spec.categories)
    return resource
