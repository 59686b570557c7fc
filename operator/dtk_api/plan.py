"""Assembly + ServiceInstance + workflow -> the initial step tree and the work of each leaf (pure).

SPEC section 5: the top row, an implicit node-creation (or power-on) stage, one numbered row per
workflow stage with per-node children, and, for the converge workflow, a `component <ref>` stage
for every placed component that no stage configures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dtk_api.assembly import AssemblySpec, StageDef, WorkflowDef
from dtk_api.placement import placements
from dtk_api.plan_stages import LeafWork, StageBuilder
from dtk_api.resources import CREATE_WORKFLOW, POWER_ON_WORKFLOW, workflow_display_name
from dtk_api.task_status import Step, StepKind
from dtk_api.templating import TemplateError, check_params, render_with

__all__ = ["LeafWork", "Plan", "PlanRequest", "build_plan"]


@dataclass(frozen=True)
class PlanRequest:
    assembly: AssemblySpec
    workflow: str
    params: Mapping[str, str] = field(default_factory=dict)
    instance_attributes: Mapping[str, str] = field(default_factory=dict)
    cardinalities: Mapping[str, int] = field(default_factory=dict)
    missing_nodes: Sequence[str] = ()
    stopped_nodes: Sequence[str] = ()


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    work: Mapping[str, LeafWork]
    digest: str


def _node_stage(number: int, nodes: Sequence[str], *, power_on: bool) -> list[Step]:
    """One missing node: a single `create_node` row is stage 1, with no wrapper (as DTK did)."""
    kind: StepKind = "power_on_node" if power_on else "create_node"
    operation = "PowerOnNode" if power_on else "CreateNode"
    index = str(number)
    if len(nodes) == 1:
        return [Step(index=index, kind=kind, name=kind, node=nodes[0], operation=operation, nodes=tuple(nodes))]
    label = "power_on_nodes_stage" if power_on else "create_nodes_stage"
    head = Step(index=index, kind="stage", name=label, operation=operation + "s", nodes=tuple(nodes))
    return [head] + [Step(index=f"{index}.{i}", kind=kind, name=kind, node=n) for i, n in enumerate(nodes, 1)]


def _workflow(request: PlanRequest) -> WorkflowDef:
    found = request.assembly.workflows.get(request.workflow)
    if found is not None:
        return found
    if request.workflow in (CREATE_WORKFLOW, POWER_ON_WORKFLOW):
        return WorkflowDef(name=request.workflow)  # converge without a declared workflow still works
    raise TemplateError(f"workflow '{request.workflow}' is not defined in the assembly")


def _check_declared_params(flow: WorkflowDef, params: Mapping[str, str]) -> None:
    missing = [p for p in flow.params if p not in params]
    if missing:
        raise TemplateError(f"workflow '{flow.name}' needs param(s) {', '.join(repr(p) for p in missing)}")


def _render_stage(stage: StageDef, params: Mapping[str, str]) -> StageDef:
    return StageDef(
        name=render_with(stage.name, params),
        mode=stage.mode,
        refs=tuple(render_with(r, params) for r in stage.refs),
        node=stage.node,
    )


def build_plan(request: PlanRequest) -> Plan:
    """Raises TemplateError (bad param, unknown variable/component/action) before anything runs."""
    check_params(request.params)
    flow = _workflow(request)
    _check_declared_params(flow, request.params)
    steps = [Step(index="", kind="task", name=workflow_display_name(request.workflow))]
    number = 0
    for nodes, power_on in ((request.missing_nodes, False), (request.stopped_nodes, True)):
        if nodes:
            number += 1
            steps += _node_stage(number, nodes, power_on=power_on)
    work = {s.index: LeafWork(kind=s.kind, node=s.node) for s in steps if s.kind in ("create_node", "power_on_node")}
    builder = StageBuilder(request=request, places=placements(request.assembly, request.cardinalities))
    for stage in flow.stages:
        number += 1
        builder.add_stage(number, _render_stage(stage, request.params))
    if request.workflow == CREATE_WORKFLOW:
        for stage in builder.uncovered_stages():
            number += 1
            builder.add_uncovered(number, stage)
    steps += builder.steps
    work.update(builder.work)
    digest = hashlib.sha256(repr((steps, sorted(work.items()))).encode()).hexdigest()[:16]
    return Plan(steps=tuple(steps), work=work, digest=digest)
