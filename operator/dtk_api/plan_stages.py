"""One workflow stage -> its rows (stage, node group, member, node) and each leaf's work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dtk_api.assembly import CommandSpec, StageDef
from dtk_api.placement import Placement, unit_variables
from dtk_api.refs import ComponentRef, parse_ref, split_action
from dtk_api.resources import ASSEMBLY_WIDE_NODE
from dtk_api.task_status import Step, StepKind
from dtk_api.templating import TemplateError, is_node_variable, variables_in
from dtk_api.textcaps import MAX_ACTION_CHARS, MAX_NAME_CHARS, cut, quote

if TYPE_CHECKING:
    from dtk_api.plan import PlanRequest

Selection = list[tuple[ComponentRef, str]]  # (placed component, action method or "")


@dataclass(frozen=True)
class WorkUnit:
    """The commands of one component (its create steps) or one action, with its variables."""

    component: str
    label: str
    commands: tuple[CommandSpec, ...]
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LeafWork:
    kind: StepKind
    node: str
    units: tuple[WorkUnit, ...] = ()


class StageBuilder:
    """Accumulates rows in display order; remembers which (placement, component) got configured."""

    def __init__(self, *, request: PlanRequest, places: list[Placement]) -> None:
        self.request = request
        self.places = places
        self.steps: list[Step] = []
        self.work: dict[str, LeafWork] = {}
        self._covered: set[tuple[str, str]] = set()
        self._machines = frozenset(m for p in places for m in p.members)

    def add_stage(self, number: int, stage: StageDef, *, only_uncovered: bool = False) -> None:
        index = str(number)
        head_at = len(self.steps)
        name = cut(stage.name, MAX_NAME_CHARS)  # rendered: params can make it many times its template
        self.steps.append(Step(index=index, kind="stage", name=name))
        labels: list[str] = []
        position = 0
        for place in self.places:
            selected = self._select(place, stage, only_uncovered=only_uncovered)
            if selected and place.members and (not stage.node or stage.node == place.name):
                position += 1
                labels += self._add_target(f"{index}.{position}", place, selected, stage.mode)
        is_action = stage.mode == "actions"
        self.steps[head_at] = Step(
            index=index, kind="stage", name=name,
            components=() if is_action else tuple(labels), action=_joined(labels) if is_action else "",
        )

    def uncovered_stages(self) -> list[StageDef]:
        """`component <ref>` stages, in first-placed order (single nodes, groups, assembly_wide)."""
        ordered = [p for p in self.places if not p.is_group] + [p for p in self.places if p.is_group]
        refs = [str(r) for p in ordered for r in p.components if (p.name, str(r)) not in self._covered]
        return [StageDef(name=f"component {r}", mode="orderedComponents", refs=(r,)) for r in dict.fromkeys(refs)]

    def add_uncovered(self, number: int, stage: StageDef) -> None:
        self.add_stage(number, stage, only_uncovered=True)

    def _select(self, place: Placement, stage: StageDef, *, only_uncovered: bool) -> Selection:
        if stage.mode == "actions":
            return [pair for text in stage.refs for pair in self._select_action(place, text)]
        wanted = [self._known(parse_ref(text), text) for text in stage.refs]
        if stage.mode == "orderedComponents":
            picked = [r for w in wanted for r in place.components if r.matches(w)]
        else:
            picked = [r for r in place.components if any(r.matches(w) for w in wanted)]
        if only_uncovered:
            picked = [r for r in picked if (place.name, str(r)) not in self._covered]
        return [(r, "") for r in dict.fromkeys(picked)]

    def _select_action(self, place: Placement, text: str) -> Selection:
        wanted, method = split_action(text)
        definition = self.request.assembly.components.get(self._known(wanted, text).name)
        if definition is None or method not in definition.actions:
            raise TemplateError(f"action '{quote(method)}' is not defined on component '{quote(wanted.name)}' "
                                f"(in '{quote(text)}')")
        return [(r, method) for r in place.components if r.matches(wanted)]

    def _known(self, ref: ComponentRef, text: str) -> ComponentRef:
        if ref.name not in self.request.assembly.components:
            raise TemplateError(f"unknown component '{quote(str(ref))}' (in '{quote(text)}')")
        return ref

    def _add_target(self, index: str, place: Placement, selected: Selection, mode: str) -> list[str]:
        kind: StepKind = "action" if mode == "actions" else "configure_node"
        labels = [_label(place.prefix, ref, method) for ref, method in selected]
        if mode != "actions":
            self._covered.update((place.name, str(ref)) for ref, _ in selected)
        if not place.is_group:
            self._add_leaf(index, kind, place, place.name, selected)
            return labels
        self.steps.append(Step(
            index=index, kind="configure_nodegroup", name="configure_nodegroup", node=place.name,
            components=() if kind == "action" else tuple(labels),
            action=_joined(labels) if kind == "action" else "",
        ))
        for position, member in enumerate(place.members, 1):
            self._add_leaf(f"{index}.{position}", kind, place, member, selected)
        return labels

    def _add_leaf(self, index: str, kind: StepKind, place: Placement, member: str, selected: Selection) -> None:
        labels = [_label(member, ref, method) for ref, method in selected]
        self.steps.append(Step(
            index=index, kind=kind, name=kind, node=member,
            components=tuple(labels) if kind == "configure_node" else (),
            action=_joined(labels) if kind == "action" else "",
        ))
        units = tuple(self._unit(place, member, ref, method) for ref, method in selected)
        self.work[index] = LeafWork(kind=kind, node=member, units=units)

    def _unit(self, place: Placement, member: str, ref: ComponentRef, method: str) -> WorkUnit:
        definition = self.request.assembly.components[ref.name]
        commands = definition.actions[method] if method else definition.create
        variables = unit_variables(
            assembly=self.request.assembly, place=place, member=member, ref=ref,
            instance_attributes=self.request.instance_attributes, params=self.request.params,
        )
        if member == ASSEMBLY_WIDE_NODE:  # its NODE column, and no machine: SPEC 2
            variables = {**variables, "node.name": ASSEMBLY_WIDE_NODE}
        for command in commands:
            for text in (command.run, command.if_, command.unless):
                self._check_variables(text, variables, assembly_wide=member == ASSEMBLY_WIDE_NODE)
        label = f"{ref}.{method}" if method else str(ref)
        return WorkUnit(component=str(ref), label=label, commands=commands, variables=variables)

    def _check_variables(self, text: str, variables: Mapping[str, str], *, assembly_wide: bool) -> None:
        for name in variables_in(text):
            if name in variables:
                continue
            if assembly_wide and name.startswith("node."):
                raise TemplateError(f"'{{{{{quote(name)}}}}}' in '{quote(text)}': an assembly-wide component has "
                                    f"no machine, so no {name.partition('.')[2]}")
            if not is_node_variable(name, self._machines):
                raise TemplateError(f"unknown variable '{quote(name)}' in '{quote(text)}'")


def _label(prefix: str, ref: ComponentRef, method: str) -> str:
    return cut(f"{prefix}/{ref}.{method}" if method else f"{prefix}/{ref}", MAX_NAME_CHARS)


def _joined(labels: list[str]) -> str:
    return cut(", ".join(labels), MAX_ACTION_CHARS)
