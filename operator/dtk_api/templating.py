"""`{{x}}` substitution and the safety rule for run-time parameters (SPEC section 2)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet

from dtk_api.textcaps import quote

_VARIABLE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
SAFE_PARAM_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=,-]*$")
MAX_VALUE_CHARS = 256  # a param or instance attribute value (SPEC 11)
NODE_FIELDS = ("name", "privateIp", "publicIp", "dnsName", "instanceId")


class TemplateError(ValueError):
    """Bad input in a Task or its Assembly: permanent, reported before anything runs."""


def has_template(text: str) -> bool:
    return _VARIABLE.search(text) is not None


def variables_in(text: str) -> list[str]:
    return _VARIABLE.findall(text)


def render(text: str, lookup: Callable[[str], str | None]) -> str:
    """Replaces every `{{x}}`; an unknown variable is an error naming it and the term."""

    def replace(match: re.Match[str]) -> str:
        value = lookup(match[1])
        if value is None:
            raise TemplateError(f"unknown variable '{quote(match[1])}' in '{quote(text)}'")
        return value

    return _VARIABLE.sub(replace, text)


def render_with(text: str, values: Mapping[str, str]) -> str:
    return render(text, values.get)


def is_node_variable(name: str, node_names: AbstractSet[str]) -> bool:
    """`node.privateIp` or `nodes.slaves:1.privateIp`: filled in only when the step runs. A set:
    it is asked once per variable per member, and a 5,000-member group has 5,000 names."""
    head, _, fld = name.rpartition(".")
    if head == "node":
        return fld in NODE_FIELDS
    prefix, _, node = head.partition(".")
    return prefix == "nodes" and fld in NODE_FIELDS and node in node_names


def unsafe_values(values: Mapping[str, object]) -> list[str]:
    """The names whose value a shell could misread, or that is too long (SPEC 2's param rule)."""
    return [str(name) for name, value in values.items()
            if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS or not SAFE_PARAM_VALUE.match(value)]


def param_rule(kind: str, name: str) -> str:
    return (f"{kind} '{quote(name)}' has a value that is not allowed: only letters, digits and ._:/@+=,- may be "
            f"used, at most {MAX_VALUE_CHARS} of them")


def check_params(params: Mapping[str, str]) -> None:
    """Task params and instance attributes are the run-time input: refuse anything a shell could misread."""
    unsafe = unsafe_values(params)
    if unsafe:
        raise TemplateError(param_rule("param", unsafe[0]))


def env_name(attribute: str) -> str:
    """`hadoop::namenode.port` -> DTK_ATTR_HADOOP__NAMENODE_PORT; `port` -> DTK_ATTR_PORT."""
    return "DTK_ATTR_" + re.sub(r"[^A-Za-z0-9]", "_", attribute).upper()
