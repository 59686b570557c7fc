"""An Assembly's own status, and the instances to re-converge when it changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dtk_api import conditions as c
from dtk_api import resources as r
from dtk_api.assembly import SpecError, parse_assembly
from dtk_operator.engine.lifecycle import reconcile_instance
from dtk_operator.engine.services import Services
from dtk_operator.kube import events


async def reconcile_assembly(services: Services, body: Mapping[str, Any]) -> None:
    meta, status = body["metadata"], body.get("status") or {}
    generation = int(meta.get("generation") or 0)
    now = datetime.now(UTC)
    patch: dict[str, object] = {"observedGeneration": generation}
    try:
        assembly = parse_assembly(body.get("spec") or {})
    except SpecError as error:
        message = f"assembly is invalid: {error}"
        events.warning(body, reason=c.REASON_INVALID_SPEC, message=message)
        patch["message"] = message
        patch["conditions"] = _conditions(status, stalled=True, message=message, now=now, generation=generation)
    else:
        patch["message"] = ""
        patch["nodeCount"] = assembly.node_count()
        patch["conditions"] = _conditions(status, stalled=False, message="assembly is valid", now=now,
                                          generation=generation)
    await services.kube.patch_status(r.ASSEMBLY_PLURAL, meta["namespace"], meta["name"], patch)
    await _reconcile_users(services, meta["namespace"], meta["name"])


async def assembly_removed(services: Services, body: Mapping[str, Any]) -> None:
    """Instances that use a deleted Assembly turn Stalled (AssemblyNotFound) at once, with an
    Event, instead of on their own next change; a Task already running keeps its plan."""
    await _reconcile_users(services, body["metadata"]["namespace"], body["metadata"]["name"])


async def _reconcile_users(services: Services, namespace: str, name: str) -> None:
    for instance in await services.kube.list(r.INSTANCE_PLURAL, namespace):
        if _field(_field(instance, "spec"), "assemblyRef").get("name") == name:  # malformed ones included
            await reconcile_instance(services, instance)


def _field(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}


def _conditions(status: Mapping[str, Any], *, stalled: bool, message: str, now: datetime,
                generation: int) -> list[c.RawCondition]:
    reason = c.REASON_INVALID_SPEC if stalled else c.REASON_VALID
    out = c.set_condition(status.get("conditions") or [], type_=c.READY, status="False" if stalled else "True",
                          reason=reason, message=message, now=now, generation=generation)
    return c.set_condition(out, type_=c.STALLED, status="True" if stalled else "False", reason=reason,
                           message=message, now=now, generation=generation)
