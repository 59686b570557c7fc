"""
JSON patch (RFC 6902), as kopf uses it: a ``test`` of the resourceVersion, then ``add``/``remove``.

Errors as on the real server: a failed ``test`` or a missing path is a 422, a malformed patch a 400.
The document is deep-copied first, so the stored object is never modified.
"""
import copy
from typing import Any

from dtk_sandbox.kubeapi import errors


def apply(document: Any, operations: Any) -> Any:
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
