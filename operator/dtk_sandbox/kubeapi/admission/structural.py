"""
The two steps before validation that change what is stored: pruning and defaulting.

Both are pure and copy only what they change: stored objects and the bodies of earlier versions
share sub-trees, and an unchanged sub-tree comes back as the same object (cheap for big statuses).
"""
import copy
from collections.abc import Mapping
from typing import Any

from dtk_sandbox.kubeapi.admission.subtrees import holds

Schema = Mapping[str, Any]

# ObjectMeta's fields: metadata is pruned to these whatever the CRD says (the real server decodes
# it into the typed ObjectMeta).
OBJECT_META_FIELDS = frozenset({
    'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation',
    'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations',
    'ownerReferences', 'finalizers', 'managedFields',
})
_ROOT_KEPT = ('apiVersion', 'kind', 'metadata')
UNKNOWN = object()  # no stored version to compare with


def prune_object(obj: dict[str, Any], schema: Schema, old: Any = UNKNOWN) -> tuple[dict[str, Any], list[str]]:
    """
    The object without fields its schema does not declare, and the paths of those fields.
    `old`: the stored version, admitted under this same schema: parts equal to it need no visit.
    """
    unknown: list[str] = []
    metadata = obj.get('metadata')
    if isinstance(metadata, dict) and not OBJECT_META_FIELDS.issuperset(metadata):
        unknown += [f'metadata.{key}' for key in metadata if key not in OBJECT_META_FIELDS]
        obj = {**obj, 'metadata': {key: value for key, value in metadata.items() if key in OBJECT_META_FIELDS}}
    properties = schema.get('properties') or {}
    result: dict[str, Any] = {}
    changed = False
    for key, value in obj.items():
        if key in _ROOT_KEPT:
            result[key] = value
        elif key in properties:
            result[key] = _prune(value, properties[key], key, unknown, _member(old, key))
            changed = changed or result[key] is not value
        elif schema.get('x-kubernetes-preserve-unknown-fields'):
            result[key] = value
        else:
            unknown.append(key)
            changed = True
    return (result if changed else obj), unknown


def same(value: Any, old: Any) -> bool:
    """True if a container equals its stored counterpart (one C-level comparison, no Python walk)."""
    return old is not UNKNOWN and (value is old or value == old)


def _member(old: Any, key: str) -> Any:
    return old.get(key, UNKNOWN) if isinstance(old, dict) else UNKNOWN


def _item(old: Any, index: int) -> Any:
    return old[index] if isinstance(old, list) and index < len(old) else UNKNOWN


def _prune(value: Any, schema: Schema, path: str, unknown: list[str], old: Any) -> Any:
    if isinstance(value, dict):
        return value if same(value, old) else _prune_mapping(value, schema, path, unknown, old)
    if isinstance(value, list) and 'items' in schema and not same(value, old):
        items = [_prune(item, schema['items'], f'{path}[{index}]', unknown, _item(old, index))
                 for index, item in enumerate(value)]
        return value if all(new is previous for new, previous in zip(items, value, strict=True)) else items
    return value


def _prune_mapping(value: dict[str, Any], schema: Schema, path: str, unknown: list[str],
                   old: Any) -> dict[str, Any]:
    properties = schema.get('properties')
    additional = schema.get('additionalProperties')
    preserve = bool(schema.get('x-kubernetes-preserve-unknown-fields'))
    result: dict[str, Any] = {}
    changed = False
    for key, item in value.items():
        if properties is not None and key in properties:
            child: Schema = properties[key]
            if item is None and not child.get('nullable') and 'default' not in child:
                changed = True  # a non-nullable field's null is dropped (defaulting's null pruning)
                continue
        elif isinstance(additional, Mapping):
            child = additional
        elif preserve or additional is True:
            result[key] = item  # kept as it is: the schema says anything goes here
            continue
        else:
            unknown.append(f'{path}.{key}')
            changed = True
            continue
        result[key] = _prune(item, child, f'{path}.{key}', unknown, _member(old, key))
        changed = changed or result[key] is not item
    return result if changed else value


def apply_defaults(value: Any, schema: Schema) -> Any:
    """
    Declared defaults filled in where a field is absent or a non-nullable null (structuraldefaulting
    in apiextensions-apiserver; its other half, dropping nulls that have no default, is done while
    pruning, which visits every value anyway).
    """
    if not holds(schema, 'default'):
        return value
    if isinstance(value, list) and 'items' in schema:
        items = [apply_defaults(item, schema['items']) for item in value]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    if not isinstance(value, dict) or not schema.get('properties'):
        return value
    result = dict(value)
    changed = False
    for key, child in schema['properties'].items():
        present = key in value
        if present and value[key] is None and not child.get('nullable'):
            result.pop(key)
            present, changed = False, True
        if not present and 'default' in child:
            result[key] = copy.deepcopy(child['default'])
            changed = True
        if key in result:
            new = apply_defaults(result[key], child)
            changed = changed or new is not result[key]
            result[key] = new
    return result if changed else value
