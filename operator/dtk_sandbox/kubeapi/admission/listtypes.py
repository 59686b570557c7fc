"""
``x-kubernetes-list-type`` invariants: the items of a ``map`` list are unique by their keys, and
those of a ``set`` list are unique (apiextensions-apiserver's schema/listtype validation).
"""
import json
from collections.abc import Iterator, Mapping
from typing import Any

from dtk_sandbox.kubeapi.admission.fielderrors import ErrorType, FieldError
from dtk_sandbox.kubeapi.admission.subtrees import holds

Schema = Mapping[str, Any]


def validate(value: Any, schema: Schema, path: str) -> list[FieldError]:
    return list(_walk(value, schema, path))


def _walk(value: Any, schema: Schema, path: str) -> Iterator[FieldError]:
    if not holds(schema, 'x-kubernetes-list-type'):
        return
    if isinstance(value, list):
        list_type = schema.get('x-kubernetes-list-type')
        if list_type == 'map':
            yield from _unique_by_keys(value, schema.get('x-kubernetes-list-map-keys') or [], path)
        elif list_type == 'set':
            yield from _unique(value, path)
        items = schema.get('items')
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                yield from _walk(item, items, f'{path}[{index}]')
    elif isinstance(value, dict):
        properties = schema.get('properties') or {}
        additional = schema.get('additionalProperties')
        for key, item in value.items():
            child = properties.get(key, additional if isinstance(additional, Mapping) else None)
            if child is not None:
                yield from _walk(item, child, f'{path}.{key}' if path else key)


def _unique_by_keys(items: list[Any], keys: list[str], path: str) -> Iterator[FieldError]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            yield FieldError(ErrorType.INVALID, f'{path}[{index}]', item,
                             'must be an object for an array of list-type map')
            continue
        if any(key not in item for key in keys):
            continue  # a missing key is the schema's `required` to report (a CRD must require or default keys)
        identity = {key: item[key] for key in keys}
        fingerprint = json.dumps(identity, sort_keys=True)
        if fingerprint in seen:
            yield FieldError(ErrorType.DUPLICATE, f'{path}[{index}]', identity)
        seen.add(fingerprint)


def _unique(items: list[Any], path: str) -> Iterator[FieldError]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        fingerprint = json.dumps(item, sort_keys=True)
        if fingerprint in seen:
            yield FieldError(ErrorType.DUPLICATE, f'{path}[{index}]', item)
        seen.add(fingerprint)
