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
from dtk_sandbox.kubeapi.admission.structural import UNKNOWN, same

Schema = Mapping[str, Any]

# RFC 3339 as strfmt's DateTime parses it (fractional seconds and any offset).
_DATE_TIME = re.compile(r'^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')
_FORMATS = {'date-time': _DATE_TIME}  # the only string format our CRDs use; others are not checked
_PATTERNS: dict[str, re.Pattern[str]] = {}
_STRING_KEYWORDS = frozenset({'maxLength', 'minLength', 'pattern', 'format'})
_NUMBER_KEYWORDS = frozenset({'minimum', 'maximum'})


def validate(value: Any, schema: Schema, path: str, old: Any = UNKNOWN) -> list[FieldError]:
    """`old`: the stored version, admitted under this same schema: parts equal to it are valid."""
    found: list[FieldError] = []
    _check(value, schema, path, found, old)
    return found


def _check(value: Any, schema: Schema, path: str, found: list[FieldError], old: Any = UNKNOWN) -> None:
    # Appends to one list rather than yielding: this runs once per value of every write
    # (thousands for a big Task status), and generator frames cost more than the checks.
    kind = type(value)
    if value is None and schema.get('nullable'):
        return
    expected = schema.get('type')
    if expected is not None and not (schema.get('x-kubernetes-int-or-string') and kind in (int, str)):
        actual = type_name(value)
        if actual != expected and not (expected == 'number' and actual == 'integer'):
            found.append(FieldError(ErrorType.TYPE_INVALID, path, actual,
                                    f'{path} in body must be of type {expected}: "{actual}"'))
    if 'enum' in schema and value not in schema['enum']:
        # field.NotSupported quotes every allowed value; non-strings are first written as JSON.
        supported = ', '.join(go_quote(item if isinstance(item, str) else json.dumps(item)) for item in schema['enum'])
        found.append(FieldError(ErrorType.NOT_SUPPORTED, path, value, f'supported values: {supported}'))
    if kind is dict:
        if not same(value, old):
            _check_object(value, schema, path, found, old)
    elif kind is str:
        if not _STRING_KEYWORDS.isdisjoint(schema):
            found.extend(_check_string(value, schema, path))
    elif kind is list:
        if not same(value, old):
            _check_array(value, schema, path, found, old)
    elif (kind is int or kind is float) and not _NUMBER_KEYWORDS.isdisjoint(schema):
        found.extend(_check_number(value, schema, path))


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


def _check_array(value: list[Any], schema: Schema, path: str, found: list[FieldError], old: Any) -> None:
    if 'maxItems' in schema and len(value) > schema['maxItems']:
        found.append(FieldError(ErrorType.TOO_MANY, path, len(value), f'must have at most {schema["maxItems"]} items'))
    if 'minItems' in schema and len(value) < schema['minItems']:
        found.append(FieldError(ErrorType.INVALID, path, len(value),
                                f'{path} in body should have at least {schema["minItems"]} items'))
    items = schema.get('items')
    if isinstance(items, Mapping):
        previous = old if isinstance(old, list) else []
        for index, item in enumerate(value):
            _check(item, items, f'{path}[{index}]', found, previous[index] if index < len(previous) else UNKNOWN)


def _check_object(value: dict[str, Any], schema: Schema, path: str, found: list[FieldError], old: Any) -> None:
    if 'maxProperties' in schema and len(value) > schema['maxProperties']:
        found.append(FieldError(ErrorType.TOO_MANY, path, len(value),
                                f'must have at most {schema["maxProperties"]} items'))
    if 'minProperties' in schema and len(value) < schema['minProperties']:
        found.append(FieldError(ErrorType.INVALID, path, len(value),
                                f'{path} in body should have at least {schema["minProperties"]} properties'))
    prefix = f'{path}.' if path else ''
    for name in schema.get('required') or ():
        if name not in value:
            found.append(FieldError(ErrorType.REQUIRED, prefix + name))
    properties = schema.get('properties') or {}
    additional = schema.get('additionalProperties')
    fallback = additional if isinstance(additional, Mapping) else None
    previous = old if isinstance(old, dict) else {}
    for key, item in value.items():
        child = properties.get(key, fallback)
        if child is not None:
            _check(item, child, prefix + key, found, previous.get(key, UNKNOWN))
