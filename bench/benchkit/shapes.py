"""The Assemblies, ServiceInstances and Tasks the benchmarks deploy, built in code so each shows its shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dtk_api import resources as r

Body = dict[str, Any]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOOP = "true"


def _component(name: str, command: str) -> Body:
    return {"name": name, "create": [{"run": command}]}


def _assembly(name: str, *, spec: Body) -> Body:
    base: Body = {"module": "bench", "template": name, "description": f"benchmark assembly {name}"}
    return {"apiVersion": r.API_VERSION, "kind": r.ASSEMBLY_KIND, "metadata": {"name": name}, "spec": base | spec}


def one_stage(name: str) -> Body:
    """One node, one stage of one no-op step: the smallest converge there is."""
    return _assembly(name, spec={
        "components": [_component("noop", NOOP)],
        "nodes": [{"name": "solo", "components": ["noop"]}],
        "workflows": [{"name": r.CREATE_WORKFLOW, "stages": [{"name": "noop", "components": ["noop"]}]}],
    })


def chain(name: str, *, stages: int, workflow: str) -> Body:
    """One node, `stages` stages of one no-op step each, as both the converge and `workflow`."""
    names = [f"step{i:02d}" for i in range(1, stages + 1)]
    flow = [{"name": n, "components": [n]} for n in names]
    return _assembly(name, spec={
        "components": [_component(n, NOOP) for n in names],
        "nodes": [{"name": "solo", "components": names}],
        "workflows": [{"name": r.CREATE_WORKFLOW, "stages": flow}, {"name": workflow, "stages": flow}],
    })


def wide_group(name: str, *, members: int, command: str) -> Body:
    """A group of `members` nodes and no single node; its one stage runs `command` on every member."""
    return _assembly(name, spec={
        "components": [_component("work", command)],
        "nodeGroups": [{"name": "members", "cardinality": members, "components": ["work"]}],
        "workflows": [{"name": r.CREATE_WORKFLOW, "stages": [{"name": "work", "components": ["work"]}]}],
    })


def instance(name: str, assembly: str) -> Body:
    spec = {"assemblyRef": {"name": assembly}}  # on the default Target
    return {"apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "metadata": {"name": name}, "spec": spec}


def task(name: str, *, instance_name: str, workflow: str) -> Body:
    """A Task as `kubectl dtk exec` creates one: labelled with its instance, naming the workflow."""
    return {"apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
            "metadata": {"name": name, "labels": {r.INSTANCE_LABEL: instance_name}},
            "spec": {"serviceInstanceRef": {"name": instance_name}, "workflow": workflow}}


def example(file_name: str) -> tuple[Body, Body]:
    """The Assembly and the ServiceInstance of an example manifest."""
    docs = [d for d in yaml.safe_load_all((EXAMPLES / file_name).read_text()) if d]
    by_kind = {d["kind"]: d for d in docs}
    return by_kind[r.ASSEMBLY_KIND], by_kind[r.INSTANCE_KIND]
