"""`deploy` and `stage`: the ServiceInstance to create, and DTK's answer to print.

Where the nodes run is a Target's (cluster-scoped, made by the cluster's admins): `--target NAME`
names one, as spec.targetRef; without it the operator uses the default Target that allows the
namespace, and records which in the instance's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.client import Body
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError, CommandError
from kubectl_dtk.api.objects import match_ref, short_id, stalled_message, tasks_of
from kubectl_dtk.commands.instances.polling import poll_until

# Seconds `deploy` waits for the operator to create the instance's Task when --timeout is not
# given; it usually takes well under a second, and without it deploy still succeeds, just
# without a task_id.
TASK_WAIT_SECONDS = 10.0


def instance_body(name: str, assembly: str, *, target: str, staged: bool) -> Body:
    body_spec: dict[str, Any] = {"assemblyRef": {"name": assembly}, "staged": staged}
    if target:
        body_spec["targetRef"] = {"name": target}
    return {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "metadata": {"name": name}, "spec": body_spec}


def resolve_assembly(ctx: Context, ref: str) -> Body:
    """By name (one GET, the usual case), else by the ID or name `list-assemblies` shows (its
    template, `cluster`) or `ls` shows (`bigtop:spark/assembly/cluster`)."""
    if "/" not in ref:  # a path-like alias is no object name, and must not become part of a URL
        try:
            return ctx.client.get(r.ASSEMBLY_PLURAL, ref)
        except ApiError as error:
            if not error.not_found:
                raise
    items = ctx.client.list(r.ASSEMBLY_PLURAL).get("items", [])
    return dict(match_ref(items, ref, kind="assembly", where=f'in namespace "{ctx.client.namespace}"',
                          aliases=_assembly_aliases))


def _assembly_aliases(body: Mapping[str, Any]) -> tuple[str, ...]:
    spec = body.get("spec") or {}
    template = str(spec.get("template", ""))
    return (template, f"{spec.get('module', '')}/assembly/{template}") if template else ()


def wait_for_first_task(ctx: Context, instance: str, *, timeout: float) -> Body | None:
    """The Task the operator creates for a new instance, once it exists (None after `timeout` s).
    An instance the operator finds unusable (Stalled: invalid Assembly, local target not allowed)
    never gets one: that ends the wait at once with the operator's reason (exit 2)."""
    def probe() -> Body | None:
        found = tasks_of(ctx, instance)
        if found:
            return found[0]
        stalled = stalled_message(ctx.client.get(r.INSTANCE_PLURAL, instance))
        if stalled:
            raise CommandError(f"service instance {instance} was created but cannot run: {stalled} (fix it, or "
                               f"remove it with `kubectl dtk delete-and-destroy {instance}`)", exit_codes.USAGE_OR_API)
        return None

    return poll_until(probe, timeout=timeout)


def deploy_answer(instance: Mapping[str, Any], task: Mapping[str, Any] | None) -> dict[str, str]:
    """DTK's deploy response: `assembly_instance_id`, `assembly_instance_name`, then the Task's
    `task_id` (the ID list-tasks shows, as DTK's was) and `task_name`; every command that takes
    a Task takes either."""
    answer = {"assembly_instance_id": short_id(instance),
              "assembly_instance_name": str(instance.get("metadata", {}).get("name", ""))}
    if task is None:
        return answer
    return {**answer, "task_id": short_id(task), "task_name": str(task.get("metadata", {}).get("name", ""))}


def deploy_text(answer: Mapping[str, str]) -> str:
    """As the DTK shell printed it (seed 001): the id alone, then the named fields, indented."""
    lines = [f"  {answer['assembly_instance_id']}", f"  assembly_instance_name: {answer['assembly_instance_name']}"]
    lines += [f"  {key}: {answer[key]}" for key in ("task_id", "task_name") if key in answer]
    return "\n".join(lines) + "\n"


def stage_answer(instance: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {"new_service_instance": {"name": str(instance.get("metadata", {}).get("name", "")),
                                     "id": short_id(instance)}}


def stage_text(answer: Mapping[str, Mapping[str, str]]) -> str:
    """DTK printed its YAML; written by hand here so that `stage` needs no YAML library."""
    new = answer["new_service_instance"]
    return f"new_service_instance:\n  name: {new['name']}\n  id: {new['id']}\n"
