"""
What kube-apiserver checks in a custom resource's metadata: its name is a DNS-1123 subdomain
(ValidateObjectMetaAccessor with NameIsDNSSubdomain) and its labels are valid label keys/values.
"""
import re
from collections.abc import Iterator
from typing import Any

from dtk_sandbox.kubeapi.admission.fielderrors import ErrorType, FieldError

_SUBDOMAIN = r'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'
_SUBDOMAIN_RE = re.compile(f'^{_SUBDOMAIN}$')
_SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                      "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                      f"validation is '{_SUBDOMAIN}')")
_QUALIFIED = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
_QUALIFIED_RE = re.compile(f'^{_QUALIFIED}$')
_LABEL_VALUE = f'({_QUALIFIED})?'
_LABEL_VALUE_RE = re.compile(f'^{_LABEL_VALUE}$')
_LABEL_VALUE_MESSAGE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                        f"'12345', regex used for validation is '{_LABEL_VALUE}')")
_NAME_MESSAGE = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                 "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                 f"'{_QUALIFIED}')")


def validate(metadata: dict[str, Any]) -> list[FieldError]:
    return [*_name(metadata.get('name')), *_labels(metadata.get('labels'))]


def _name(name: Any) -> Iterator[FieldError]:
    if not isinstance(name, str) or not name:
        return  # a missing name is refused earlier (name or generateName is required)
    if len(name) > 253:
        yield FieldError(ErrorType.INVALID, 'metadata.name', name, 'must be no more than 253 characters')
    if not _SUBDOMAIN_RE.match(name):
        yield FieldError(ErrorType.INVALID, 'metadata.name', name, _SUBDOMAIN_MESSAGE)


def _labels(labels: Any) -> Iterator[FieldError]:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        yield from _label_key(str(key))
        text = value if isinstance(value, str) else str(value)
        if len(text) > 63:
            yield FieldError(ErrorType.INVALID, 'metadata.labels', text, 'must be no more than 63 characters')
        if not _LABEL_VALUE_RE.match(text):
            yield FieldError(ErrorType.INVALID, 'metadata.labels', text, _LABEL_VALUE_MESSAGE)


def _label_key(key: str) -> Iterator[FieldError]:
    prefix, _, name = key.rpartition('/')
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN_RE.match(prefix)):
        yield FieldError(ErrorType.INVALID, 'metadata.labels', key, f'prefix part {_SUBDOMAIN_MESSAGE}')
    if not name or len(name) > 63 or not _QUALIFIED_RE.match(name):
        detail = 'name part must be no more than 63 characters' if len(name) > 63 else _NAME_MESSAGE
        yield FieldError(ErrorType.INVALID, 'metadata.labels', key, detail)
