"""Component references: `hadoop::namenode`, titled `gitarchive[mar01]`, actions `cmp[t].method`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(r"^(?P<name>[^\[\]]+?)(?:\[(?P<title>[^\[\]]*)\])?$")


@dataclass(frozen=True)
class ComponentRef:
    name: str
    title: str = ""

    def __str__(self) -> str:
        return f"{self.name}[{self.title}]" if self.title else self.name

    def matches(self, wanted: ComponentRef) -> bool:
        """A stage naming `gitarchive` selects every titled instance; `gitarchive[x]` only that one."""
        return self.name == wanted.name and (not wanted.title or self.title == wanted.title)


def parse_ref(text: str) -> ComponentRef:
    match = _REF.match(text.strip())
    if not match:
        return ComponentRef(name=text.strip())
    return ComponentRef(name=match["name"], title=match["title"] or "")


def split_action(text: str) -> tuple[ComponentRef, str]:
    """`hadoop::namenode.smoke_test` -> (hadoop::namenode, smoke_test); titles may hold dots."""
    head, bracket, tail = text.rpartition("]")
    if bracket:
        method = tail.lstrip(".")
        return parse_ref(head + bracket), method
    comp, _, method = text.rpartition(".")
    return parse_ref(comp), method


def split_attribute_key(key: str) -> tuple[str, str, str]:
    """`master/hadoop::namenode.port` -> (master, hadoop::namenode, port); node part optional."""
    node, slash, rest = key.partition("/")
    if not slash:
        node, rest = "", key
    comp, attr = split_action(rest)
    return node, str(comp), attr
