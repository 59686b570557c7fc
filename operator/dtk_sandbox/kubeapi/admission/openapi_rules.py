"""
Validation of a value against a structural schema, worded as kube-openapi's validator and
apiextensions-apiserver's translation of its errors (validation.go kubeOpenAPIResultToFieldErrors).

Paths are the validator's own: ``spec.nodes[0].name``, map keys as ``.key``. Every check that
applies to the value runs (a type error does not stop an enum error), as in kube-openapi.
"""
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from dtk_sandbox.kubeapi.admission.fielderrors import ErrorType, FieldError, go_quote, type_name

Schema = Mapping[str, Any]

# RFC 3339 as strfmt's DateTime parses it (fractional seconds and any offset).
_DATE_TIME = re.compile(r'^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')
_FORMATS = {'date-time': _DATE_TIME}  # the only string format our CRDs use; others are not checked
_PATTERNS: dict[str, re.Pattern[str]] = {}


def validate(value: Any, schema: Schema, path: str) -> list[FieldError]:
    return list(_check(value, schema, path))


def _check(value: Any, schema: Schema, path: str) -> Iterator[FieldError]:
    if value is None and schema.get('nullable'):
        return
    yield from _check_type(value, schema, path)
    if 'enum' in schema and value not in schema['enum']:
        # field.NotSupported quotes every allowed value; non-strings are first written as JSON.
        supported = ', '.join(go_quote(item if isinstance(item, str) else json.dumps(item)) for item in schema['enum'])
        yield FieldError(ErrorType.NOT_SUPPORTED, path, value, f'supported values: {supported}')
    if isinstance(value, str):
        yield from _check_string(value, schema, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield from _check_number(value, schema, path)
    elif isinstance(value, list):
        yield from _check_array(value, schema, path)
    elif isinstance(value, dict):
        yield from _check_object(value, schema, path)


def _check_type(value: Any, schema: Schema, path: str) -> Iterator[FieldError]:
    expected = schema.get('type')
    if not expected or (schema.get('x-kubernetes-int-or-string') and isinstance(value, int | str)):
        return
    actual = type_name(value)
    if actual != expected and not (expected == 'number' and actual == 'integer'):
        yield FieldError(ErrorType.TYPE_INVALID, path, actual, f'{path} in body must be of type {expected}: "{actual}"')


def _check_string(value: str, schema: Schema, path: str) -> Iterator[FieldError]:
    if 'maxLength' in schema and len(value) > schema['maxLength']:
        yield FieldError(ErrorType.TOO_LONG, path, value, f'may not be longer than {schema["maxLength"]}')
    if 'minLength' in schema and len(value) < schema['minLength']:
        yield FieldError(ErrorType.INVALID, path, value,
                         f'{path} in body should be at least {schema["minLength"]} chars long')
    pattern = schema.get('pattern')
    if pattern is not None and not _compiled(pattern).search(value):
        yield FieldError(ErrorType.INVALID, path, value, f"{path} in body should match '{pattern}'")
    checker = _FORMATS.get(schema.get('format', ''))
    if checker is not None and not checker.match(value):
        yield FieldError(ErrorType.TYPE_INVALID, path, value,
                         f'{path} in body must be of type {schema["format"]}: {go_quote(value)}')


def _compiled(pattern: str) -> re.Pattern[str]:
    # ECMA/RE2 patterns as the CRDs use them are valid Python patterns; compile each once.
    found = _PATTERNS.get(pattern)
    if found is None:
        found = _PATTERNS[pattern] = re.compile(pattern)
    return found


def _check_number(value: float, schema: Schema, path: str) -> Iterator[FieldError]:
    if 'minimum' in schema:
        minimum = schema['minimum']
        if value < minimum or (schema.get('exclusiveMinimum') and value == minimum):
            relation = 'greater than' if schema.get('exclusiveMinimum') else 'greater than or equal to'
            yield FieldError(ErrorType.INVALID, path, value, f'{path} in body should be {relation} {minimum}')
    if 'maximum' in schema:
        maximum = schema['maximum']
        if value > maximum or (schema.get('exclusiveMaximum') and value == maximum):
            relation = 'less than' if schema.get('exclusiveMaximum') else 'less than or equal to'
            yield FieldError(ErrorType.INVALID, path, value, f'{path} in body should be {relation} {maximum}')


def _check_array(value: list[Any], schema: Schema, path: str) -> Iterator[FieldError]:
    if 'maxItems' in schema and len(value) > schema['maxItems']:
        yield FieldError(ErrorType.TOO_MANY, path, len(value), f'must have at most {schema["maxItems"]} items')
    if 'minItems' in schema and len(value) < schema['minItems']:
        yield FieldError(ErrorType.INVALID, path, len(value),
                         f'{path} in body should have at least {schema["minItems"]} items')
    items = schema.get('items')
    if isinstance(items, Mapping):
        for index, item in enumerate(value):
            yield from _check(item, items, f'{path}[{index}]')


def _check_object(value: dict[str, Any], schema: Schema, path: str) -> Iterator[FieldError]:
    if 'maxProperties' in schema and len(value) > schema['maxProperties']:
        yield FieldError(ErrorType.TOO_MANY, path, len(value), f'must have at most {schema["maxProperties"]} items')
    if 'minProperties' in schema and len(value) < schema['minProperties']:
        yield FieldError(ErrorType.INVALID, path, len(value),
                         f'{path} in body should have at least {schema["minProperties"]} properties')
    for name in schema.get('required') or ():
        if name not in value:
            yield FieldError(ErrorType.REQUIRED, _child(path, name))
    properties = schema.get('properties') or {}
    additional = schema.get('additionalProperties')
    for key, item in value.items():
        child = properties.get(key, additional if isinstance(additional, Mapping) else None)
        if child is not None:
            yield from _check(item, child, _child(path, key))


def _child(path: str, name: str) -> str:
    return f'{path}.{name}' if path else name
