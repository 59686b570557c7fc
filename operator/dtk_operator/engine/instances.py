"""A ServiceInstance's checks and its status, recomputed from the world on every call."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dtk_api import conditions as c
from dtk_api import resources as r
from dtk_api.assembly import AssemblySpec, SpecError, parse_assembly, too_many_members, whole_number
from dtk_api.instance_status import InstanceFacts, Problem, instance_conditions, last_run, phase
from dtk_api.limits import MAX_GROUP_MEMBERS, MAX_INSTANCE_NODES
from dtk_api.targets import name_of
from dtk_api.templating import param_rule, unsafe_values
from dtk_api.validation import check_instance_spec
from dtk_operator.engine.services import InstanceKey, Services
from dtk_operator.engine.target_choice import choose_target
from dtk_operator.engine.tasks import summaries, tasks_of
from dtk_operator.kube.client import Body


@dataclass(frozen=True)
class Checked:
    """The outcome of checking an instance: a problem, or its parsed Assembly."""

    problem: Problem | None
    assembly: AssemblySpec | None = None
    assembly_body: Body | None = None
    target: Mapping[str, Any] | None = None


def key_of(body: Mapping[str, Any]) -> InstanceKey:
    return body["metadata"]["namespace"], body["metadata"]["name"]


def cardinalities(spec: Mapping[str, Any], assembly: AssemblySpec) -> dict[str, int]:
    sizes = {g.name: g.cardinality or 0 for g in assembly.groups}
    sizes.update({str(g.get("name")): whole_number(g.get("cardinality", 0), minimum=0) or 0
                  for g in spec.get("nodeGroups") or [] if isinstance(g, Mapping)})
    return sizes


# What a running Task outlives: its Target no longer allowing the namespace, or not Ready for a
# while, stalls the instance's next Task, never the one already under way (resumed after a restart).
RUNNING_TASK_GOES_ON = frozenset({c.REASON_TARGET_NOT_ALLOWED, c.REASON_TARGET_NOT_READY})


async def check_instance(services: Services, body: Mapping[str, Any], *, resumed: bool = False) -> Checked:
    if shape := check_instance_spec(body.get("spec")):  # stored without schema checks (SPEC 2)
        return Checked(Problem(c.REASON_INVALID_SPEC, shape))
    spec = body["spec"]
    namespace = body["metadata"]["namespace"]
    target, problem = await choose_target(services, body)
    if problem is not None and not (resumed and problem.reason in RUNNING_TASK_GOES_ON):
        return Checked(problem)
    attributes = spec.get("attributes") or {}
    # The schema says so too; this holds objects stored under an older CRD (SPEC 2).
    if unsafe := unsafe_values(attributes):
        return Checked(Problem(c.REASON_INVALID_SPEC, param_rule("attribute", unsafe[0])))
    ref = str((spec.get("assemblyRef") or {}).get("name", ""))
    asm_body = await services.kube.get(r.ASSEMBLY_PLURAL, namespace, ref) if ref else None
    if asm_body is None:
        return Checked(Problem(c.REASON_ASSEMBLY_NOT_FOUND, f"assembly '{ref}' not found in namespace {namespace}"))
    try:
        assembly = parse_assembly(asm_body.get("spec") or {})
    except SpecError as error:
        return Checked(Problem(c.REASON_INVALID_SPEC, f"assembly '{ref}' is invalid: {error}"))
    known = {g.name for g in assembly.groups}
    overrides = [g for g in spec.get("nodeGroups") or [] if isinstance(g, Mapping)]
    unknown = [str(g.get("name")) for g in overrides if g.get("name") not in known]
    if unknown:
        return Checked(Problem(c.REASON_INVALID_SPEC, f"nodeGroups names unknown group(s): {', '.join(unknown)}"))
    bad = [g for g in overrides if whole_number(g.get("cardinality", 0), minimum=0) is None]
    if bad:
        return Checked(Problem(c.REASON_INVALID_SPEC, f"nodeGroups: group '{bad[0].get('name')}' has cardinality "
                                                      f"{bad[0].get('cardinality')!r}; it must be 0 or more"))
    sizes = {str(g.get("name")): whole_number(g.get("cardinality", 0), minimum=0) or 0 for g in overrides}
    if big := [(name, size) for name, size in sizes.items() if size > MAX_GROUP_MEMBERS]:
        return Checked(Problem(c.REASON_INVALID_SPEC, too_many_members(f"nodeGroups: group '{big[0][0]}'", big[0][1])))
    if too_many := too_many_nodes(len(assembly.nodes), cardinalities(spec, assembly)):
        return Checked(Problem(c.REASON_INVALID_SPEC, too_many))
    return Checked(None, assembly, asm_body, target)


def too_many_nodes(singles: int, sizes: Mapping[str, int]) -> str:
    """SPEC 11: an instance has at most MAX_INSTANCE_NODES machines (single nodes and members).
    The schema bounds each group (5,000) but not their sum, which the instance's overrides change."""
    total = singles + sum(sizes.values())
    if total <= MAX_INSTANCE_NODES:
        return ""
    groups = ", ".join(f"{name} {size:,}" for name, size in sizes.items() if size)
    return (f"the instance would have {total:,} nodes ({singles:,} single, groups: {groups}); at most "
            f"{MAX_INSTANCE_NODES:,} nodes per instance: lower the cardinality of a group in spec.nodeGroups "
            "(or the Assembly's), or split it into several instances")


def revision(body: Mapping[str, Any], assembly_body: Mapping[str, Any]) -> str:
    """What a converge depends on: a change here (not in staged/power/policy) makes a new Task. (The
    Target cannot change: spec.targetRef is immutable, and the one given is kept.)"""
    spec = body.get("spec") or {}
    relevant = {k: spec.get(k) for k in ("assemblyRef", "attributes", "nodeGroups")}
    meta = assembly_body.get("metadata", {})
    relevant["assembly"] = [meta.get("uid"), meta.get("generation")]
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


async def refresh_instance(services: Services, namespace: str, name: str, *, observed: int | None = None) -> None:
    """Recomputes phase, LAST RUN and conditions. Only the reconcile handler, which acted on a
    generation, passes `observed`; everyone else keeps the observedGeneration already there."""
    async with services.lock((namespace, name)):
        body = await services.kube.get(r.INSTANCE_PLURAL, namespace, name)
        if body is None:
            return
        checked = await check_instance(services, body)
        status = body.get("status") or {}
        generation = observed if observed is not None else int(status.get("observedGeneration") or 0)
        spec = body["spec"] if checked.problem is None or not check_instance_spec(body.get("spec")) else {}
        facts = InstanceFacts(
            generation=generation, staged=bool(spec.get("staged")), power=str(spec.get("power") or "running"),
            tasks=summaries(await tasks_of(services.kube, namespace, name)), problem=checked.problem,
        )
        patch: dict[str, object] = {
            "phase": phase(facts), "lastRun": last_run(facts),
            "conditions": instance_conditions(status.get("conditions") or [], facts, datetime.now(UTC)),
            "message": checked.problem.message if checked.problem else "",
        }
        if checked.target is not None:
            patch["target"] = name_of(checked.target)
        if checked.assembly is not None:
            patch["assemblyTemplate"] = checked.assembly.template_path
            patch["nodeCount"] = checked.assembly.node_count(cardinalities(spec, checked.assembly))
        if observed is not None:
            patch["observedGeneration"] = observed
        await services.kube.patch_status(r.INSTANCE_PLURAL, namespace, name, patch)
        services.metrics.status_writes.labels(r.INSTANCE_KIND).inc()
