"""
The three patch formats of the API: JSON patch (RFC 6902), merge patch (RFC 7386), and an
approximation of strategic merge patch (for built-in kinds only, as on a real server).

All functions are pure: they return a new document and never modify their arguments.
"""
import copy
from typing import Any

from dtk_sandbox.kubeapi import errors

JSON_PATCH = 'application/json-patch+json'
MERGE_PATCH = 'application/merge-patch+json'
STRATEGIC_PATCH = 'application/strategic-merge-patch+json'

# Lists that strategic merge merges item by item instead of replacing; the merge key of each.
# These are the fields of the built-in kinds the emulator serves (ObjectMeta) plus the common
# pod-template lists, so that a patch of a Deployment-like body behaves plausibly.
_MERGE_KEYS = {
    'ownerReferences': 'uid', 'conditions': 'type', 'containers': 'name', 'initContainers': 'name',
    'env': 'name', 'volumes': 'name', 'volumeMounts': 'mountPath', 'ports': 'containerPort',
    'imagePullSecrets': 'name',
}
_MERGED_PRIMITIVE_LISTS = {'finalizers'}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: dicts merge recursively, null deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge patch, plus merge-by-key lists and the ``$patch``/``$retainKeys``/``$deleteFromPrimitiveList`` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get('$patch') == 'replace':
        return {key: copy.deepcopy(value) for key, value in patch.items() if not key.startswith('$')}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith('$'):
            continue  # directives are applied below; $setElementOrder only orders, which we skip
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and value.get('$patch') == 'delete':
            result.pop(key, None)
        elif isinstance(value, list) and key in _MERGE_KEYS:
            result[key] = _merge_by_key(result.get(key) or [], value, _MERGE_KEYS[key])
        elif isinstance(value, list) and key in _MERGED_PRIMITIVE_LISTS:
            old = list(result.get(key) or [])
            result[key] = old + [item for item in value if item not in old]
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    for key, value in patch.items():
        if key.startswith('$deleteFromPrimitiveList/'):
            field = key.split('/', 1)[1]
            result[field] = [item for item in result.get(field) or [] if item not in value]
    if isinstance(patch.get('$retainKeys'), list):
        result = {key: value for key, value in result.items() if key in patch['$retainKeys']}
    return result


def _merge_by_key(old: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    if any(isinstance(item, dict) and item.get('$patch') == 'replace' for item in patch):
        return [copy.deepcopy(item) for item in patch if not (isinstance(item, dict) and '$patch' in item)]
    result = list(old)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            result.append(copy.deepcopy(item))
            continue
        index = next((i for i, o in enumerate(result) if isinstance(o, dict) and o.get(merge_key) == item[merge_key]), None)
        if item.get('$patch') == 'delete':
            result = [o for i, o in enumerate(result) if i != index]
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def json_patch(document: Any, operations: Any) -> Any:
    """RFC 6902. A failed ``test`` or a missing path is a 422, a malformed patch a 400."""
    if not isinstance(operations, list):
        raise errors.bad_request('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or 'op' not in operation or 'path' not in operation:
            raise errors.bad_request(f'invalid JSON patch operation: {operation!r}')
        result = _apply_operation(result, operation)
    return result


def _apply_operation(doc: Any, operation: dict[str, Any]) -> Any:
    op, path = operation['op'], operation['path']
    if op == 'test':
        if _get(doc, path) != operation.get('value'):
            raise errors.unprocessable(f'the server rejected our request due to an error in our request: '
                                       f'testing value {path} failed: test failed')
        return doc
    if op == 'remove':
        return _remove(doc, path)
    if op in ('add', 'replace'):
        if op == 'replace':
            _get(doc, path)  # must exist
        return _add(doc, path, copy.deepcopy(operation.get('value')), replace=op == 'replace')
    if op in ('move', 'copy'):
        value = copy.deepcopy(_get(doc, operation.get('from', '')))
        doc = _remove(doc, operation['from']) if op == 'move' else doc
        return _add(doc, path, value, replace=False)
    raise errors.bad_request(f'unknown JSON patch operation: {op!r}')


def _tokens(path: str) -> list[str]:
    if path == '':
        return []
    if not path.startswith('/'):
        raise errors.bad_request(f'invalid JSON pointer: {path!r}')
    return [token.replace('~1', '/').replace('~0', '~') for token in path[1:].split('/')]


def _missing(path: str) -> errors.ApiError:
    return errors.unprocessable(f'the server rejected our request due to an error in our request: '
                                f'doc is missing path: "{path}"')


def _step(container: Any, token: str, path: str) -> Any:
    if isinstance(container, dict) and token in container:
        return container[token]
    if isinstance(container, list) and token.isdigit() and int(token) < len(container):
        return container[int(token)]
    raise _missing(path)


def _get(doc: Any, path: str) -> Any:
    for token in _tokens(path):
        doc = _step(doc, token, path)
    return doc


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    tokens = _tokens(path)
    if not tokens:
        raise _missing(path)
    parent = doc
    for token in tokens[:-1]:
        parent = _step(parent, token, path)
    return parent, tokens[-1]


def _add(doc: Any, path: str, value: Any, *, replace: bool) -> Any:
    if path == '':
        return value
    parent, token = _parent(doc, path)
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list) and token == '-':
        parent.append(value)
    elif isinstance(parent, list) and token.isdigit() and int(token) <= len(parent) - int(replace):
        parent[int(token):int(token) + int(replace)] = [value]
    else:
        raise _missing(path)
    return doc


def _remove(doc: Any, path: str) -> Any:
    parent, token = _parent(doc, path)
    _step(parent, token, path)  # must exist
    del parent[int(token) if isinstance(parent, list) else token]
    return doc
