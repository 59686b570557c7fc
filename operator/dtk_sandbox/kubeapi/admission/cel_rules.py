"""
``x-kubernetes-validations``: CEL rules evaluated where they sit in the schema, as
apiextensions-apiserver does (validation/cel), with the ``common-expression-language`` library
(the Python bindings of cel-rust, a maintained CEL implementation).

- ``self`` is the value at the rule's node; a rule that reads ``oldSelf`` is a transition rule,
  evaluated only on updates and only where the old value correlates (same property, same map key,
  same key fields of a ``map`` list; items of other lists never correlate).
- A refusal is ``<path>: Invalid value: "<schema type>": <message>``, the message from
  ``messageExpression`` when it gives a usable string, else ``message``, else ``failed rule: <rule>``.
"""
from collections.abc import Iterator, Mapping
from typing import Any

import cel

from dtk_sandbox.kubeapi.admission.fielderrors import ErrorType, FieldError
from dtk_sandbox.kubeapi.admission.subtrees import holds

Schema = Mapping[str, Any]
NOT_CORRELATED = object()  # no old value: transition rules are skipped

_REASONS = {
    'FieldValueInvalid': ErrorType.INVALID,
    'FieldValueForbidden': ErrorType.FORBIDDEN,
    'FieldValueRequired': ErrorType.REQUIRED,
    'FieldValueDuplicate': ErrorType.DUPLICATE,
}
_programs: dict[str, 'cel.Program'] = {}  # rule text -> compiled program; rules come from installed CRDs


def validate(value: Any, schema: Schema, path: str, old: Any = NOT_CORRELATED) -> list[FieldError]:
    return list(_walk(value, schema, path, old))


def _walk(value: Any, schema: Schema, path: str, old: Any) -> Iterator[FieldError]:
    if not holds(schema, 'x-kubernetes-validations'):
        return
    for rule in schema.get('x-kubernetes-validations') or ():
        yield from _evaluate(rule, value, old, schema, path)
    if isinstance(value, dict):
        properties = schema.get('properties') or {}
        additional = schema.get('additionalProperties')
        old_map = old if isinstance(old, dict) else {}
        for key, item in value.items():
            if key in properties:
                yield from _walk(item, properties[key], f'{path}.{key}' if path else key,
                                 old_map.get(key, NOT_CORRELATED))
            elif isinstance(additional, Mapping):
                yield from _walk(item, additional, f'{path}[{key}]', old_map.get(key, NOT_CORRELATED))
    elif isinstance(value, list) and isinstance(schema.get('items'), Mapping):
        olds = _correlated_items(value, old, schema)
        for index, item in enumerate(value):
            yield from _walk(item, schema['items'], f'{path}[{index}]', olds[index])


def _correlated_items(items: list[Any], old: Any, schema: Schema) -> list[Any]:
    keys = schema.get('x-kubernetes-list-map-keys') or []
    if schema.get('x-kubernetes-list-type') != 'map' or not isinstance(old, list) or not keys:
        return [NOT_CORRELATED] * len(items)
    by_key = {_identity(item, keys): item for item in old if isinstance(item, dict)}
    return [by_key.get(_identity(item, keys), NOT_CORRELATED) if isinstance(item, dict) else NOT_CORRELATED
            for item in items]


def _identity(item: dict[str, Any], keys: list[str]) -> tuple[str, ...]:
    return tuple(repr(item.get(key)) for key in keys)


def _evaluate(rule: Mapping[str, Any], value: Any, old: Any, schema: Schema, path: str) -> Iterator[FieldError]:
    text = rule['rule']
    where = _with_field_path(path, rule.get('fieldPath', ''))
    kind = _REASONS.get(rule.get('reason', ''), ErrorType.INVALID)
    node_type = schema.get('type', 'object')
    try:
        program = _compiled(text)
        transition = 'oldSelf' in program.variables()
        if transition and old is NOT_CORRELATED:
            return
        context = {'self': value, 'oldSelf': old} if transition else {'self': value}
        passed = program.execute(context)
    except Exception as error:  # the library's errors are plain ValueError/KeyError/TypeError
        yield FieldError(ErrorType.INVALID, where, node_type, f'{_describe(error)} evaluating rule: {text}')
        return
    if passed is not True:
        yield FieldError(kind, where, node_type, _message(rule, context))


def _compiled(text: str) -> 'cel.Program':
    program = _programs.get(text)
    if program is None:
        program = _programs[text] = cel.compile(text)
    return program


def _message(rule: Mapping[str, Any], context: dict[str, Any]) -> str:
    expression = rule.get('messageExpression')
    if expression:
        try:
            result = _compiled(expression).execute(context)
        except Exception:  # as the real server: a broken messageExpression falls back to message
            result = None
        if isinstance(result, str) and result.strip() and '\n' not in result:
            return result
    return str(rule.get('message') or f'failed rule: {rule["rule"]}')


def _with_field_path(path: str, field_path: str) -> str:
    relative = field_path.lstrip('.')
    if not relative:
        return path
    return f'{path}.{relative}' if path else relative


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f'no such key: {error.args[0] if error.args else ""}'
    return str(error)
