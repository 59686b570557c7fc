"""
The subset of JSONPath that printer columns use, and the cell values of ``kubectl get`` tables.

Supported: ``.a.b``, ``.a[0]``, ``.a[*]``, ``.a[?(@.type=="Ready")].status`` (with ``{}`` or not),
and a dot escaped in a key, ``.metadata.annotations.dtk\\.io/x`` (an annotation, as kubectl writes it).
That covers the ``additionalPrinterColumns`` seen in practice; anything else reads as absent.
"""
import datetime
import json
import re
from typing import Any

from dtk_sandbox.kubeapi import objects

_TOKEN = re.compile(
    r'\.(?P<field>(?:\\\.|[^.\[\\])+)'
    r'|\[(?P<index>\d+|\*)\]'
    r'|\[\?\(@\.(?P<key>[^=!<>\s]+)\s*==?\s*(?:"(?P<dq>[^"]*)"|\'(?P<sq>[^\']*)\'|(?P<bare>[^)\s]*))\)\]'
)


def find(obj: Any, path: str) -> Any:
    """The first value at ``path``, or None if there is none."""
    values = [obj]
    position, path = 0, path.strip().removeprefix('{').removesuffix('}')
    while position < len(path) and values:
        match = _TOKEN.match(path, position)
        if match is None:
            return None
        values = [found for value in values for found in _step(value, match)]
        position = match.end()
    return values[0] if values else None


def _step(value: Any, match: re.Match[str]) -> list[Any]:
    if match['field'] is not None:
        key = match['field'].replace('\\.', '.')
        return [value[key]] if isinstance(value, dict) and key in value else []
    if not isinstance(value, list):
        return []
    if match['index'] == '*':
        return list(value)
    if match['index'] is not None:
        index = int(match['index'])
        return [value[index]] if index < len(value) else []
    expected = next(group for group in (match['dq'], match['sq'], match['bare']) if group is not None)
    return [item for item in value if isinstance(item, dict) and str(item.get(match['key'])) == expected]


def cell(value: Any, column_type: str, now: datetime.datetime) -> Any:
    """A table cell as the real server renders it: dates as ages ("5m"), structures as JSON."""
    if value is None:
        return None
    if column_type == 'date' and isinstance(value, str):
        try:
            return human_duration(now - objects.parse_time(value))
        except ValueError:
            return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(',', ':'))
    return value


def human_duration(delta: datetime.timedelta) -> str:
    """Kubernetes' ``duration.HumanDuration``: the AGE column's "42s", "5m3s", "3h", "12d"."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return '<invalid>'
    if seconds < 0:
        return '0s'
    if seconds < 120:
        return f'{seconds}s'
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 10:
        return f'{minutes}m{seconds % 60}s' if seconds % 60 else f'{minutes}m'
    if minutes < 180:
        return f'{minutes}m'
    if hours < 8:
        return f'{hours}h{minutes % 60}m' if minutes % 60 else f'{hours}h'
    if hours < 48:
        return f'{hours}h'
    if hours < 24 * 8:
        return f'{days}d{hours % 24}h' if hours % 24 else f'{days}d'
    if hours < 24 * 365 * 2:
        return f'{days}d'
    if hours < 24 * 365 * 8:
        return f'{days // 365}y{days % 365}d' if days % 365 else f'{days // 365}y'
    return f'{days // 365}y'
