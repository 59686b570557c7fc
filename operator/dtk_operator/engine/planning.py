"""The plan of one Task, built from the API objects it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dtk_api.placement import machine_names
from dtk_api.plan import Plan, PlanRequest, build_plan
from dtk_api.task_status import TaskStatus
from dtk_api.templating import TemplateError
from dtk_operator.engine.instances import cardinalities, check_instance
from dtk_operator.engine.nodes import recorded_nodes
from dtk_operator.engine.services import Services
from dtk_operator.targets.base import NodeFacts


@dataclass(frozen=True)
class Planned:
    plan: Plan
    nodes: dict[str, NodeFacts]
    bindings: dict[str, Mapping[str, str]]


async def plan_task(services: Services, task: Mapping[str, Any], status: TaskStatus,
                    instance: Mapping[str, Any]) -> Planned:
    """Raises TemplateError with a message for the user when the Task cannot run as asked."""
    checked = await check_instance(services, instance, resumed=bool(status.steps))
    if checked.problem is not None or checked.assembly is None:
        raise TemplateError(checked.problem.message if checked.problem else "assembly unavailable")
    spec, si_spec = task.get("spec") or {}, instance.get("spec") or {}
    sizes = cardinalities(si_spec, checked.assembly)
    nodes = await recorded_nodes(services, instance)
    if status.steps:  # a resumed Task keeps the node stage it was planned with
        missing = [s.node for s in status.steps if s.kind == "create_node"]
        stopped = [s.node for s in status.steps if s.kind == "power_on_node"]
    else:
        missing = [m for m in machine_names(checked.assembly, sizes)
                   if m not in nodes or nodes[m].state == "creating"]
        stopped = [m for m in machine_names(checked.assembly, sizes) if m in nodes and nodes[m].state == "stopped"]
    plan = build_plan(PlanRequest(
        assembly=checked.assembly, workflow=str(spec.get("workflow") or ""),
        params={str(k): str(v) for k, v in (spec.get("params") or {}).items()},
        instance_attributes={str(k): str(v) for k, v in (si_spec.get("attributes") or {}).items()},
        cardinalities=sizes, missing_nodes=missing, stopped_nodes=stopped,
    ))
    if status.plan_hash and status.plan_hash != plan.digest:
        raise TemplateError("the assembly or the instance changed while this task was interrupted; "
                            "it cannot resume safely (the change queued a new task)")
    bindings = {n.name: n.binding for n in (*checked.assembly.nodes, *checked.assembly.groups)}
    return Planned(plan=plan, nodes=nodes, bindings=bindings)
