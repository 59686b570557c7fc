"""
A skeleton of the OpenAPI v3 documents: just enough for kubectl, no schemas.

kubectl (1.27+) validates manifests by default. It first asks OpenAPI v3 whether the server
validates fields itself (a ``fieldValidation`` query parameter on the PATCH operation of the
kind); if so, it sends ``fieldValidation=Strict`` and validates nothing on its side. Without
these documents it downloads OpenAPI v2 schemas instead and fails ("failed to download openapi"),
so plain ``kubectl apply -f`` would need ``--validate=false``. The emulator accepts the parameter
and validates nothing (it has no schemas): unknown fields are kept, as with
``x-kubernetes-preserve-unknown-fields``.
"""
from typing import Any

from dtk_sandbox.kubeapi.registry import Registry
from dtk_sandbox.kubeapi.specs import ResourceSpec

Body = dict[str, Any]
_FIELD_VALIDATION = {'name': 'fieldValidation', 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}}
_RESPONSES = {'200': {'description': 'OK'}, '201': {'description': 'Created'}}


def document(registry: Registry, path: str) -> Body | None:
    """The OpenAPI v3 index or one group-version's document; None for other paths."""
    parts = [part for part in path.split('/') if part]
    if parts[:2] != ['openapi', 'v3']:
        return None
    by_path: dict[str, list[ResourceSpec]] = {}
    for spec in registry.all():
        by_path.setdefault(_gv_path(spec), []).append(spec)
    if len(parts) == 2:
        return {'paths': {gv: {'serverRelativeURL': f'/openapi/v3/{gv}'} for gv in sorted(by_path)}}
    specs = by_path.get('/'.join(parts[2:]))
    return None if specs is None else _group_version_document(specs)


def _gv_path(spec: ResourceSpec) -> str:
    return f'apis/{spec.group}/{spec.version}' if spec.group else f'api/{spec.version}'


def _group_version_document(specs: list[ResourceSpec]) -> Body:
    paths: Body = {}
    for spec in specs:
        scope = '/namespaces/{namespace}' if spec.namespaced else ''
        collection = f'/{_gv_path(spec)}{scope}/{spec.plural}'
        paths[collection] = {'post': _operation(spec, 'create')}
        paths[f'{collection}/{{name}}'] = {'put': _operation(spec, 'replace'), 'patch': _operation(spec, 'patch')}
    return {
        'openapi': '3.0.0',
        'info': {'title': 'Kubernetes', 'version': 'v1.32.0'},
        'paths': paths,
        'components': {'schemas': {}},  # present but empty: kubectl then builds patches from its built-in types
    }


def _operation(spec: ResourceSpec, verb: str) -> Body:
    return {
        'operationId': f'{verb}{spec.kind}',
        'x-kubernetes-group-version-kind': {'group': spec.group, 'version': spec.version, 'kind': spec.kind},
        'parameters': [_FIELD_VALIDATION],
        'responses': _RESPONSES,
    }
