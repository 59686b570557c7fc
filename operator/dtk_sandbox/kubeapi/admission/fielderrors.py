"""
Field errors as kube-apiserver words them (k8s.io/apimachinery/pkg/util/validation/field).

kubectl prints each cause of a 422 as ``* <field>: <message>``; users compare those lines with
what a cluster told them, so the wording here follows ``field.Error.ErrorBody`` to the letter:
the error type's phrase, the bad value Go-formatted (strings quoted, numbers bare), the detail.
"""
import dataclasses
import enum
import json
from typing import Any

from dtk_sandbox.kubeapi import errors
from dtk_sandbox.kubeapi.specs import ResourceSpec


class ErrorType(enum.Enum):
    # value: (the cause's reason on the wire, the phrase that starts the message)
    REQUIRED = ('FieldValueRequired', 'Required value')
    INVALID = ('FieldValueInvalid', 'Invalid value')
    TYPE_INVALID = ('FieldValueTypeInvalid', 'Invalid value')
    NOT_SUPPORTED = ('FieldValueNotSupported', 'Unsupported value')
    DUPLICATE = ('FieldValueDuplicate', 'Duplicate value')
    TOO_LONG = ('FieldValueTooLong', 'Too long')
    TOO_MANY = ('FieldValueTooMany', 'Too many')
    FORBIDDEN = ('FieldValueForbidden', 'Forbidden')

    @property
    def reason(self) -> str:
        return self.value[0]

    @property
    def phrase(self) -> str:
        return self.value[1]


# Types whose message never shows the bad value (ErrorBody's first cases).
_VALUELESS = (ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG)
# After one of these, kube-apiserver does not evaluate CEL rules (hasBlockingErr in 1.28).
BLOCKING = (ErrorType.NOT_SUPPORTED, ErrorType.REQUIRED, ErrorType.TOO_LONG, ErrorType.TOO_MANY,
            ErrorType.TYPE_INVALID)
OMIT = object()  # a bad value that is not shown (field.Error's omitValue)


@dataclasses.dataclass(frozen=True)
class FieldError:
    type: ErrorType
    field: str  # '<nil>' for errors about the whole object
    value: Any = OMIT
    detail: str = ''

    @property
    def body(self) -> str:
        text = self.type.phrase
        if self.type not in _VALUELESS and self.value is not OMIT:
            text += f': {go_value(self.value)}'
        return f'{text}: {self.detail}' if self.detail else text

    def __str__(self) -> str:
        return f'{self.field}: {self.body}'


def go_quote(text: str) -> str:
    """Go's %q of a string (JSON's escaping is the same for everything users type)."""
    return json.dumps(text, ensure_ascii=False)


def go_value(value: Any) -> str:
    """A bad value as ErrorBody prints it: %v for simple types, %q for strings, %#v for the rest."""
    if value is None:
        return '"null"'  # ErrorBody turns a nil value into the string "null", then quotes it
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        items = ', '.join(f'{go_quote(str(key))}:{_go_element(value[key])}' for key in sorted(value))
        return f'map[string]interface {{}}{{{items}}}'
    if isinstance(value, list):
        return f'[]interface {{}}{{{", ".join(_go_element(item) for item in value)}}}'
    return str(value)


def _go_element(value: Any) -> str:
    return 'interface {}(nil)' if value is None else go_value(value)


_TYPE_NAMES = {type(None): 'null', bool: 'boolean', int: 'integer', float: 'number', str: 'string', list: 'array',
               dict: 'object'}


def type_name(value: Any) -> str:
    """The JSON type of a value, as the OpenAPI validator names it in type errors."""
    return _TYPE_NAMES.get(type(value), 'object')


def invalid(spec: ResourceSpec, name: str, found: list[FieldError]) -> errors.ApiError:
    """The 422 for a refused object: one cause per field error, the summary as apierrors.NewInvalid."""
    summary = str(found[0]) if len(found) == 1 else f'[{", ".join(str(error) for error in found)}]'
    refusal = errors.invalid(spec, name, summary)
    refusal.details['causes'] = [{'reason': error.type.reason, 'message': error.body, 'field': error.field}
                                 for error in found]
    return refusal
