"""An Assembly's spec in memory, read from its wire shape with every problem collected.

The CRD schema refuses what it can express; this module re-checks everything so that an API
server without schema validation (or an object that slipped past it) still yields one clear
`Stalled` message instead of a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from dtk_api.limits import MAX_GROUP_MEMBERS, MAX_WORKFLOW_STAGES
from dtk_api.refs import ComponentRef, parse_ref
from dtk_api.validation import check_assembly

StageMode = Literal["components", "orderedComponents", "actions"]
STAGE_MODES: tuple[StageMode, ...] = ("components", "orderedComponents", "actions")


class SpecError(ValueError):
    """A spec that cannot be planned: permanent until the object is edited."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class CommandSpec:
    run: str
    timeout_seconds: int | None = None
    if_: str = ""
    unless: str = ""


@dataclass(frozen=True)
class ComponentDef:
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    create: tuple[CommandSpec, ...] = ()
    actions: Mapping[str, tuple[CommandSpec, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeDef:
    """A single node, or a node group when `cardinality` is not None."""

    name: str
    components: tuple[ComponentRef, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    binding: Mapping[str, str] = field(default_factory=dict)
    cardinality: int | None = None


@dataclass(frozen=True)
class StageDef:
    name: str
    mode: StageMode
    refs: tuple[str, ...]
    node: str = ""


@dataclass(frozen=True)
class WorkflowDef:
    name: str
    params: tuple[str, ...] = ()
    stages: tuple[StageDef, ...] = ()


@dataclass(frozen=True)
class AssemblySpec:
    module: str = ""
    template: str = ""
    description: str = ""
    components: Mapping[str, ComponentDef] = field(default_factory=dict)
    assembly_wide: tuple[ComponentRef, ...] = ()
    nodes: tuple[NodeDef, ...] = ()
    groups: tuple[NodeDef, ...] = ()
    workflows: Mapping[str, WorkflowDef] = field(default_factory=dict)

    @property
    def template_path(self) -> str:
        """DTK's ASSEMBLY TEMPLATE column: `bigtop:spark/assembly/cluster`."""
        return f"{self.module}/assembly/{self.template}"

    def node_count(self, cardinalities: Mapping[str, int] | None = None) -> int:
        sizes = cardinalities or {}
        return len(self.nodes) + sum(sizes.get(g.name, g.cardinality or 0) for g in self.groups)


def _str_map(raw: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _dicts(raw: object) -> list[Mapping[str, object]]:
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def _strs(raw: object) -> tuple[str, ...]:
    return tuple(str(item) for item in raw) if isinstance(raw, list) else ()


def whole_number(value: object, *, minimum: int) -> int | None:
    """`value` if it is an integer (not a bool, not a string) of at least `minimum`; else None.
    The CRD schema says the same: this holds objects stored without it (SPEC 2)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None


def _command(raw: Mapping[str, object], problems: list[str], where: str) -> CommandSpec:
    timeout = raw.get("timeoutSeconds")
    if not isinstance(raw.get("run"), str) or not raw.get("run"):
        problems.append(f"{where}: a step's run must be a non-empty string (got {raw.get('run')!r})")
    if timeout is not None and whole_number(timeout, minimum=1) is None:
        problems.append(f"{where}: timeoutSeconds must be a whole number of seconds, 1 or more (got {timeout!r})")
    return CommandSpec(
        run=str(raw.get("run", "")),
        timeout_seconds=whole_number(timeout, minimum=1),
        if_=str(raw.get("if", "") or ""),
        unless=str(raw.get("unless", "") or ""),
    )


def _component(raw: Mapping[str, object], problems: list[str]) -> ComponentDef:
    name = str(raw.get("name", ""))
    actions = {str(a.get("name", "")): tuple(_command(s, problems, f"component '{name}' action '{a.get('name')}'")
                                             for s in _dicts(a.get("steps")))
               for a in _dicts(raw.get("actions"))}
    return ComponentDef(
        name=name,
        attributes=_str_map(raw.get("attributes")),
        create=tuple(_command(s, problems, f"component '{name}'") for s in _dicts(raw.get("create"))),
        actions=actions,
    )


def too_many_members(what: str, cardinality: int) -> str:
    return f"{what} has cardinality {cardinality:,}; at most {MAX_GROUP_MEMBERS:,} members per group"


def _node(raw: Mapping[str, object], problems: list[str], *, group: bool) -> NodeDef:
    name = str(raw.get("name", ""))
    cardinality = whole_number(raw.get("cardinality", 1), minimum=0) if group else None
    if group and cardinality is None:
        problems.append(f"node group '{name}' has cardinality {raw.get('cardinality')!r}; it must be 0 or more")
    elif group and (cardinality or 0) > MAX_GROUP_MEMBERS:
        problems.append(too_many_members(f"node group '{name}'", cardinality or 0))
    return NodeDef(
        name=name,
        components=tuple(parse_ref(r) for r in _strs(raw.get("components"))),
        attributes=_str_map(raw.get("attributes")),
        binding=_str_map(raw.get("binding")),
        cardinality=(cardinality or 0) if group else None,
    )


def _stage(raw: Mapping[str, object], problems: list[str], where: str) -> StageDef:
    name = str(raw.get("name", ""))
    present = [mode for mode in STAGE_MODES if mode in raw]
    if len(present) != 1:
        problems.append(f"{where} stage '{name}' must have exactly one of components, "
                        f"orderedComponents or actions (has {len(present)})")
    mode = present[0] if present else "components"
    return StageDef(name=name, mode=mode, refs=_strs(raw.get(mode)), node=str(raw.get("node", "") or ""))


def _workflow(raw: Mapping[str, object], problems: list[str]) -> WorkflowDef:
    name = str(raw.get("name", ""))
    stages = tuple(_stage(s, problems, f"workflow '{name}'") for s in _dicts(raw.get("stages")))
    if len(stages) > MAX_WORKFLOW_STAGES:
        problems.append(f"workflow '{name}' has {len(stages):,} stages; at most {MAX_WORKFLOW_STAGES} per workflow")
    return WorkflowDef(name=name, params=_strs(raw.get("params")), stages=stages)


def _duplicates(kind: str, names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dups = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    return [f"duplicate {kind} name '{n}'" for n in dict.fromkeys(dups)]


def parse_assembly(raw: Mapping[str, object]) -> AssemblySpec:
    """Reads and validates an Assembly spec; raises SpecError listing every problem found."""
    problems: list[str] = []
    comps = [_component(c, problems) for c in _dicts(raw.get("components"))]
    nodes = [_node(n, problems, group=False) for n in _dicts(raw.get("nodes"))]
    groups = [_node(g, problems, group=True) for g in _dicts(raw.get("nodeGroups"))]
    flows = [_workflow(w, problems) for w in _dicts(raw.get("workflows"))]
    spec = AssemblySpec(
        module=str(raw.get("module", "")),
        template=str(raw.get("template", "")),
        description=str(raw.get("description", "")),
        components={c.name: c for c in comps},
        assembly_wide=tuple(parse_ref(r) for r in _strs(raw.get("assemblyWide"))),
        nodes=tuple(nodes),
        groups=tuple(groups),
        workflows={w.name: w for w in flows},
    )
    problems += _duplicates("component", [c.name for c in comps])
    problems += _duplicates("node or node group", [n.name for n in nodes + groups])
    problems += _duplicates("workflow", [w.name for w in flows])
    problems += check_assembly(spec)
    if problems:
        raise SpecError(problems)
    return spec

