"""
Which schema sub-trees hold a keyword at all, so that walks looking for list types or CEL rules
skip the rest (a Task's status has no rule and one list map: its thousands of rows need no visit).
"""
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]
_CACHE_LIMIT = 20_000  # schema nodes remembered; CRDs replaced over and over must not grow it forever
# id(schema node) -> (the node, kept alive so that its id is not reused; {keyword: found below})
_found: dict[int, tuple[Schema, dict[str, bool]]] = {}


def holds(schema: Schema, keyword: str) -> bool:
    """True if `keyword` appears in this schema node or any node below it."""
    entry = _found.get(id(schema))
    if entry is None or entry[0] is not schema:
        if len(_found) >= _CACHE_LIMIT:
            _found.clear()
        entry = _found[id(schema)] = (schema, {})
    answers = entry[1]
    if keyword not in answers:
        answers[keyword] = keyword in schema or any(holds(child, keyword) for child in _children(schema))
    return answers[keyword]


def _children(schema: Schema) -> list[Schema]:
    children = list((schema.get('properties') or {}).values())
    for key in ('additionalProperties', 'items'):
        if isinstance(schema.get(key), Mapping):
            children.append(schema[key])
    return children
