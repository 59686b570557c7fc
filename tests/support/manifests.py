"""Small Assemblies and ServiceInstances for tests, built in code so each test shows what matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dtk_api import resources as r

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]


def component(name: str, *steps: str | dict[str, Any], actions: dict[str, list[str]] | None = None,
              attributes: dict[str, str] | None = None) -> dict[str, Any]:
    create = [{"run": s} if isinstance(s, str) else s for s in steps]
    out: dict[str, Any] = {"name": name, "create": create}
    if actions:
        out["actions"] = [{"name": k, "steps": [{"run": s} for s in v]} for k, v in actions.items()]
    if attributes:
        out["attributes"] = attributes
    return out


def assembly(name: str, *, components: list[dict[str, Any]], nodes: dict[str, list[str]],
             stages: list[dict[str, Any]], groups: dict[str, tuple[int, list[str]]] | None = None,
             workflows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`stages` are the `create` workflow's: at least one (the CRD says minItems: 1)."""
    if not stages:
        raise ValueError("a workflow needs at least one stage: an API server refuses `stages: []`")
    flows = [{"name": "create", "stages": stages}] + (workflows or [])
    return {
        "apiVersion": r.API_VERSION, "kind": r.ASSEMBLY_KIND, "metadata": {"name": name},
        "spec": {
            "module": "test:e2e", "template": name, "description": f"test assembly {name}",
            "components": components,
            "nodes": [{"name": n, "components": c} for n, c in nodes.items()],
            "nodeGroups": [{"name": g, "cardinality": k, "components": c} for g, (k, c) in (groups or {}).items()],
            "workflows": flows,
        },
    }


def instance(name: str, assembly_name: str, **spec: Any) -> dict[str, Any]:
    """No targetRef unless given: the namespace's default Target (the session's local one)."""
    body: dict[str, Any] = {"assemblyRef": {"name": assembly_name}}
    body.update(spec)
    return {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "metadata": {"name": name}, "spec": body}


def task(name: str, instance_name: str, workflow: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"serviceInstanceRef": {"name": instance_name}, "workflow": workflow}
    body.update(spec)
    return {"apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
            "metadata": {"name": name, "labels": {r.INSTANCE_LABEL: instance_name}}, "spec": body}


def steps_of(task_body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["index"]: s for s in (task_body.get("status") or {}).get("steps", [])}


def condition(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in (body.get("status") or {}).get("conditions", []) if c["type"] == kind), {})


def ec2_instance(name: str, assembly_name: str, *, target: str, **spec: Any) -> dict[str, Any]:
    """A ServiceInstance on the ec2 Target `target` (support.ec2.ec2_target makes one on moto)."""
    return instance(name, assembly_name, targetRef={"name": target}, **spec)
