"""
The OpenAPI v3 documents, as kube-apiserver publishes them for what kubectl reads in them.

- Validation: kubectl (1.27+) asks whether the server validates fields itself (a ``fieldValidation``
  query parameter on the PATCH operation of the kind); if so it sends ``fieldValidation=Strict`` and
  validates nothing on its side. Without these documents it downloads OpenAPI v2 instead and fails
  ("failed to download openapi"), so plain ``kubectl apply -f`` would need ``--validate=false``. The
  emulator honours the parameter (see :mod:`admission`).
- Patches: ``kubectl apply`` builds a strategic merge patch from these schemas only if the PATCH
  operation accepts ``application/strategic-merge-patch+json``. Custom resources declare the three
  types a real server accepts for them, so kubectl sends them a JSON merge patch. Built-in kinds
  declare no request body and have no schemas here: kubectl builds their strategic merge patches
  from its own compiled-in types, as it does when a server publishes no usable schema.
- ``kubectl explain``: it takes the schema whose ``x-kubernetes-group-version-kind`` names the kind.
  A custom resource's is its CRD version's ``openAPIV3Schema`` with ``apiVersion``, ``kind`` and
  ``metadata`` replaced by the standard ones, as kube-apiserver's CRD builder does; ``metadata``
  refers to ObjectMeta through ``allOf``, because OpenAPI 3.0 ignores the siblings of a ``$ref``
  (kube-openapi wraps such references the same way).

kubectl fetches a group-version's document on every apply and explain: each is built once per
state of its resources (CRDs change at runtime) and then served from a cache.
"""
import functools
from typing import Any

from dtk_sandbox.kubeapi import patches
from dtk_sandbox.kubeapi.registry import Registry
from dtk_sandbox.kubeapi.specs import ResourceSpec

Body = dict[str, Any]
_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.'
_CONVENTIONS = 'https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md'
_FIELD_VALIDATION = {'name': 'fieldValidation', 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}}
_RESPONSES = {'200': {'description': 'OK'}, '201': {'description': 'Created'}}
_CUSTOM_BODY_TYPES = ('application/json', 'application/yaml')

_TYPE_META: Body = {
    'apiVersion': {'type': 'string', 'description': (
        'APIVersion defines the versioned schema of this representation of an object. Servers should convert '
        'recognized schemas to the latest internal value, and may reject unrecognized values. '
        f'More info: {_CONVENTIONS}#resources')},
    'kind': {'type': 'string', 'description': (
        'Kind is a string value representing the REST resource this object represents. Servers may infer this '
        'from the endpoint the client submits requests to. Cannot be updated. In CamelCase. '
        f'More info: {_CONVENTIONS}#types-kinds')},
}
_METADATA: Body = {'allOf': [{'$ref': f'#/components/schemas/{_META}ObjectMeta'}],
                   'description': f"Standard object's metadata. More info: {_CONVENTIONS}#metadata"}


_TYPES: dict[str, Body] = {
    'string': {'type': 'string'}, 'integer': {'type': 'integer', 'format': 'int64'},
    'time': {'type': 'string', 'format': 'date-time'}, 'boolean': {'type': 'boolean'},
    'map': {'type': 'object', 'additionalProperties': {'type': 'string', 'default': ''}},
    'set': {'type': 'array', 'items': {'type': 'string', 'default': ''}},
    'owners': {'type': 'array', 'items': {'$ref': f'#/components/schemas/{_META}OwnerReference'}},
}


def _object(description: str, fields: list[tuple[str, str, str]], required: tuple[str, ...] = ()) -> Body:
    properties = {name: {**_TYPES[kind], 'description': text} for name, kind, text in fields}
    return {'type': 'object', 'description': description, 'properties': properties,
            **({'required': list(required)} if required else {})}


# Subsets of kube-apiserver's ObjectMeta and OwnerReference, with the first sentences of their descriptions:
# what `kubectl explain <kind>.metadata` shows.
_OBJECT_META = _object('ObjectMeta is metadata that all persisted resources must have, which includes all '
                       'objects users must create.', [
    ('name', 'string', 'Name must be unique within a namespace. Cannot be updated.'),
    ('generateName', 'string', 'GenerateName is an optional prefix, used by the server, to generate a unique '
                               'name ONLY IF the Name field has not been provided.'),
    ('namespace', 'string', 'Namespace defines the space within which each name must be unique.'),
    ('uid', 'string', 'UID is the unique in time and space value for this object. Read-only.'),
    ('resourceVersion', 'string', 'An opaque value that represents the internal version of this object that '
                                  'can be used by clients to determine when objects have changed. Read-only.'),
    ('generation', 'integer', 'A sequence number representing a specific generation of the desired state. '
                              'Populated by the system. Read-only.'),
    ('creationTimestamp', 'time', 'CreationTimestamp is a timestamp representing the server time when this '
                                  'object was created. Read-only.'),
    ('deletionTimestamp', 'time', 'DeletionTimestamp is RFC 3339 date and time at which this resource will be '
                                  'deleted. Read-only.'),
    ('labels', 'map', 'Map of string keys and values that can be used to organize and categorize (scope and '
                      'select) objects.'),
    ('annotations', 'map', 'Annotations is an unstructured key value map stored with a resource that may be set '
                           'by external tools to store and retrieve arbitrary metadata.'),
    ('finalizers', 'set', 'Must be empty before the object is deleted from the registry.'),
    ('ownerReferences', 'owners', 'List of objects depended by this object.'),
])
_OWNER_REFERENCE = _object('OwnerReference contains enough information to let you identify an owning object.', [
    ('apiVersion', 'string', 'API version of the referent.'),
    ('kind', 'string', 'Kind of the referent.'),
    ('name', 'string', 'Name of the referent.'),
    ('uid', 'string', 'UID of the referent.'),
    ('controller', 'boolean', 'If true, this reference points to the managing controller.'),
    ('blockOwnerDeletion', 'boolean', 'If true, the owner cannot be deleted before this reference is removed '
                                      '(foreground deletion).'),
], required=('apiVersion', 'kind', 'name', 'uid'))
_PATCH: Body = {'type': 'object', 'description': (
    'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.')}


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
    # Specs compare without their schemas, so a schema's identity joins the key (a CRD update may change only
    # its schema). The cache holds the keyed specs, hence their schemas: no id is reused while its entry lives.
    return None if specs is None else _group_version_document(tuple((spec, id(spec.schema)) for spec in specs))


def _gv_path(spec: ResourceSpec) -> str:
    return f'apis/{spec.group}/{spec.version}' if spec.group else f'api/{spec.version}'


@functools.lru_cache(maxsize=64)
def _group_version_document(key: tuple[tuple[ResourceSpec, int], ...]) -> Body:
    """Shared by every response for this state: callers serialize it and never modify it."""
    paths: Body = {}
    schemas: Body = {}
    for spec, _ in key:
        scope = '/namespaces/{namespace}' if spec.namespaced else ''
        collection = f'/{_gv_path(spec)}{scope}/{spec.plural}'
        paths[collection] = {'post': _operation(spec, 'create')}
        paths[f'{collection}/{{name}}'] = {'put': _operation(spec, 'replace'), 'patch': _operation(spec, 'patch')}
        if not spec.builtin:
            if spec.has_status:
                paths[f'{collection}/{{name}}/status'] = {'put': _operation(spec, 'replace', 'Status'),
                                                          'patch': _operation(spec, 'patch', 'Status')}
            schemas[schema_name(spec)] = _kind_schema(spec)
    if schemas:
        schemas.update({f'{_META}ObjectMeta': _OBJECT_META, f'{_META}OwnerReference': _OWNER_REFERENCE,
                        f'{_META}Patch': _PATCH})
    return {
        'openapi': '3.0.0',
        'info': {'title': 'Kubernetes', 'version': 'v1.32.0'},
        'paths': paths,
        'components': {'schemas': schemas},
    }


def schema_name(spec: ResourceSpec) -> str:
    """The key of a custom resource's schema: the reversed group, then version and kind (io.dtk.v1alpha1.Assembly)."""
    return '.'.join([*reversed(spec.group.split('.')), spec.version, spec.kind])


def _kind_schema(spec: ResourceSpec) -> Body:
    # Without a schema the real server publishes a bare object: no properties, so no field is refused.
    schema: Body = dict(spec.schema) if spec.schema is not None else {'type': 'object'}
    if spec.schema is not None:
        schema['properties'] = {**(schema.get('properties') or {}), **_TYPE_META, 'metadata': _METADATA}
    gvk = {'group': spec.group, 'kind': spec.kind, 'version': spec.version}
    return {**schema, 'x-kubernetes-group-version-kind': [gvk]}


def _operation(spec: ResourceSpec, verb: str, subresource: str = '') -> Body:
    scope = 'Namespaced' if spec.namespaced else ''
    operation: Body = {
        'operationId': f'{verb}{scope}{spec.kind}{subresource}',
        'x-kubernetes-group-version-kind': {'group': spec.group, 'version': spec.version, 'kind': spec.kind},
        'parameters': [_FIELD_VALIDATION],
        'responses': _RESPONSES,
    }
    if not spec.builtin:  # see the module docstring: built-in kinds declare no body, on purpose
        ref = {'$ref': f'#/components/schemas/{_META}Patch' if verb == 'patch' else
                       f'#/components/schemas/{schema_name(spec)}'}
        types = patches.CUSTOM_PATCH_TYPES if verb == 'patch' else _CUSTOM_BODY_TYPES
        operation['requestBody'] = {'content': {media: {'schema': ref} for media in types}, 'required': True}
    return operation
