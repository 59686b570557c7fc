"""
Label and field selectors, with the semantics of the real API (``!=`` and ``notin`` match absent keys).
"""
import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from dtk_sandbox.kubeapi import errors

Body = dict[str, Any]
Test = Callable[[Mapping[str, str]], bool]

_KEY = r'[A-Za-z0-9][-A-Za-z0-9_./]*'
_VALUE = r'[-A-Za-z0-9_.]*'
_EXISTS = re.compile(rf'(?P<neg>!?)\s*(?P<key>{_KEY})')
_EQUALITY = re.compile(rf'(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})')
_SET = re.compile(rf'(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)')


@dataclasses.dataclass(frozen=True)
class Selector:
    """Both selectors of one request; an empty selector matches everything."""
    labels: tuple[Test, ...] = ()
    fields: tuple[tuple[str, str, bool], ...] = ()  # (dotted path, value, must equal)

    def matches(self, obj: Body) -> bool:
        labels = (obj.get('metadata') or {}).get('labels') or {}
        if not all(test(labels) for test in self.labels):
            return False
        return all((_field(obj, path) == value) == equal for path, value, equal in self.fields)


def parse(label_selector: str = '', field_selector: str = '') -> Selector:
    labels = tuple(_label_test(part) for part in _split(label_selector))
    fields = tuple(_field_test(part) for part in _split(field_selector))
    return Selector(labels=labels, fields=fields)


def _split(selector: str) -> list[str]:
    # Commas separate requirements, except inside the parentheses of `in (a,b)`.
    parts, depth, current = [], 0, ''
    for char in selector:
        depth += {'(': 1, ')': -1}.get(char, 0)
        if char == ',' and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _label_test(requirement: str) -> Test:
    if match := _SET.fullmatch(requirement):
        key, values = match['key'], {value.strip() for value in match['values'].split(',')}
        if match['op'] == 'in':
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQUALITY.fullmatch(requirement):
        key, value = match['key'], match['value']
        if match['op'] == '!=':
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS.fullmatch(requirement):
        key, negated = match['key'], bool(match['neg'])
        return lambda labels: (key in labels) != negated
    raise errors.bad_request(f'unable to parse requirement: {requirement!r}')


def _field_test(requirement: str) -> tuple[str, str, bool]:
    match = re.fullmatch(r'(?P<path>[A-Za-z0-9_.]+)\s*(?P<op>==|=|!=)\s*(?P<value>.*)', requirement)
    if match is None:
        raise errors.bad_request(f'invalid field selector: {requirement!r}')
    return match['path'], match['value'].strip(), match['op'] != '!='


def _field(obj: Body, path: str) -> str:
    value: Any = obj
    for part in path.split('.'):
        value = value.get(part) if isinstance(value, dict) else None
    # Absent fields compare as empty strings, as on the real server (`spec.nodeName=` finds unscheduled pods).
    return '' if value is None else str(value).lower() if isinstance(value, bool) else str(value)
