"""Cross-reference checks on an Assembly that a CRD schema cannot express (SPEC section 2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from dtk_api.refs import parse_ref, split_action
from dtk_api.resources import ASSEMBLY_WIDE_NODE
from dtk_api.templating import has_template

if TYPE_CHECKING:
    from dtk_api.assembly import AssemblySpec, StageDef


def static_refs(refs: Sequence[str]) -> list[str]:
    """Stage references without `{{param}}`: those can be checked before any Task runs."""
    return [r for r in refs if not has_template(r)]


def _placement_problems(spec: AssemblySpec) -> Iterator[str]:
    for ref in spec.assembly_wide:
        if ref.name not in spec.components:
            yield f"assemblyWide names unknown component '{ref}'"
    for node in (*spec.nodes, *spec.groups):
        kind = "node group" if node.cardinality is not None else "node"
        if not node.name or ":" in node.name or node.name == ASSEMBLY_WIDE_NODE:
            yield f"{kind} name '{node.name}' is not allowed (empty, reserved, or contains ':')"
        for ref in node.components:
            if ref.name not in spec.components:
                yield f"{kind} '{node.name}' names unknown component '{ref}'"


def _stage_ref_problems(spec: AssemblySpec, flow: str, stage: StageDef) -> Iterator[str]:
    where = f"workflow '{flow}' stage '{stage.name}'"
    for text in static_refs(stage.refs):
        if stage.mode != "actions":
            if parse_ref(text).name not in spec.components:
                yield f"{where} names unknown component '{text}'"
            continue
        ref, method = split_action(text)
        component = spec.components.get(ref.name)
        if component is None:
            yield f"{where} names unknown component '{ref}' in action '{text}'"
        elif method not in component.actions:
            yield f"{where}: action '{method}' is not defined on component '{ref.name}'"


def check_assembly(spec: AssemblySpec) -> list[str]:
    problems = list(_placement_problems(spec))
    node_names = {n.name for n in (*spec.nodes, *spec.groups)}
    for flow in spec.workflows.values():
        for stage in flow.stages:
            if stage.node and stage.node not in node_names | {ASSEMBLY_WIDE_NODE}:
                problems.append(f"workflow '{flow.name}' stage '{stage.name}' names unknown node '{stage.node}'")
            problems.extend(_stage_ref_problems(spec, flow.name, stage))
    return problems


def check_task_spec(spec: object) -> str:
    """The first problem of a Task's spec that the CRD schema would have refused, or "" (SPEC 2:
    objects stored without schema checks must not crash or hang the operator)."""
    if not isinstance(spec, Mapping):
        return "spec must be an object"
    ref = spec.get("serviceInstanceRef")
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref.get("name"):
        return "spec.serviceInstanceRef.name must name a ServiceInstance"
    if not isinstance(spec.get("workflow"), str) or not spec.get("workflow"):
        return "spec.workflow must name a workflow"
    params = spec.get("params", {})
    if not isinstance(params, Mapping) or not all(isinstance(v, str) for v in params.values()):
        return "spec.params must map names to string values"
    if not isinstance(spec.get("cancel", False), bool):
        return f"spec.cancel must be true or false (got {spec.get('cancel')!r})"
    timeout = spec.get("timeoutSeconds", 1)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        return f"spec.timeoutSeconds must be a whole number of seconds, 1 or more (got {timeout!r})"
    return ""


def _is_text_map(value: object) -> bool:
    return isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())


def check_instance_spec(spec: object) -> str:
    """The first problem of a ServiceInstance's spec shape that the CRD schema would have refused,
    or "": what the operator reads must have the types it expects before anything uses it."""
    if not isinstance(spec, Mapping):
        return "spec must be an object"
    ref = spec.get("assemblyRef")
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref.get("name"):
        return "spec.assemblyRef.name must name an Assembly"
    target_ref = spec.get("targetRef", {})
    if not isinstance(target_ref, Mapping) or not isinstance(target_ref.get("name", ""), str):
        return "spec.targetRef must be {name: <a Target>}"
    if not _is_text_map(spec.get("attributes", {})):
        return "spec.attributes must map names to string values"
    groups = spec.get("nodeGroups", [])
    if not isinstance(groups, list) or not all(isinstance(g, Mapping) for g in groups):
        return "spec.nodeGroups must be a list of {name, cardinality}"
    for key, allowed in (("staged", (bool,)), ("power", (str,)), ("deletionPolicy", (str,))):
        if key in spec and not isinstance(spec[key], allowed):
            return f"spec.{key} has the wrong type (got {spec[key]!r})"
    return ""
