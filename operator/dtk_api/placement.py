"""Where components live: single nodes, node groups with their members, and `assembly_wide`.

Also the attribute lookup of one component on one node, in SPEC section 2's rising priority:
component defaults, node overrides, ServiceInstance overrides, Task params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dtk_api.assembly import AssemblySpec, NodeDef
from dtk_api.refs import ComponentRef, split_attribute_key
from dtk_api.resources import ASSEMBLY_WIDE_NODE


@dataclass(frozen=True)
class Placement:
    name: str
    members: tuple[str, ...]
    components: tuple[ComponentRef, ...]
    node: NodeDef | None = None
    is_group: bool = False

    @property
    def prefix(self) -> str:
        """How DTK names a placement in stage component lists."""
        return f"node-group:{self.name}" if self.is_group else self.name


def member_names(group: str, cardinality: int) -> tuple[str, ...]:
    return tuple(f"{group}:{i}" for i in range(1, cardinality + 1))


def placements(assembly: AssemblySpec, cardinalities: Mapping[str, int]) -> list[Placement]:
    """Row order inside a stage (as the seed shows): groups, then single nodes, then assembly_wide."""
    groups = [
        Placement(g.name, member_names(g.name, cardinalities.get(g.name, g.cardinality or 0)),
                  g.components, g, is_group=True)
        for g in assembly.groups
    ]
    singles = [Placement(n.name, (n.name,), n.components, n) for n in assembly.nodes]
    wide = [Placement(ASSEMBLY_WIDE_NODE, (ASSEMBLY_WIDE_NODE,), assembly.assembly_wide)]
    return [*groups, *singles, *(w for w in wide if w.components)]


def machine_names(assembly: AssemblySpec, cardinalities: Mapping[str, int]) -> tuple[str, ...]:
    """Nodes that are machines, in creation order: single nodes first, then group members."""
    singles = tuple(n.name for n in assembly.nodes)
    members = tuple(
        m for g in assembly.groups for m in member_names(g.name, cardinalities.get(g.name, g.cardinality or 0))
    )
    return singles + members


def _overrides(table: Mapping[str, str], ref: ComponentRef) -> dict[str, str]:
    """Keys `component.attr`; a titled key (`gitarchive[mar01].x`) beats the plain one."""
    found: dict[str, str] = {}
    for wanted in dict.fromkeys((ref.name, str(ref))):
        for key, value in table.items():
            _, comp, attr = split_attribute_key(key)
            if comp == wanted and attr:
                found[attr] = value
    return found


def _instance_overrides(
    table: Mapping[str, str], place: Placement, member: str, ref: ComponentRef
) -> dict[str, str]:
    found: dict[str, str] = {}
    for scope in dict.fromkeys((place.name, member)):  # a member's key beats its group's
        scoped = {k.partition("/")[2]: v for k, v in table.items() if k.partition("/")[0] == scope}
        found.update(_overrides(scoped, ref))
    return found


def unit_variables(
    *,
    assembly: AssemblySpec,
    place: Placement,
    member: str,
    ref: ComponentRef,
    instance_attributes: Mapping[str, str],
    params: Mapping[str, str],
) -> dict[str, str]:
    definition = assembly.components[ref.name]
    values = dict(definition.attributes)
    if place.node is not None:
        values.update(_overrides(place.node.attributes, ref))
    values.update(_instance_overrides(instance_attributes, place, member, ref))
    values.update(params)
    values["component.name"] = ref.name
    values["component.title"] = ref.title
    return values
