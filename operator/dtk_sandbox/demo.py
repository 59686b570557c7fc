"""`sandbox --demo FILE`: apply FILE, stream its Task like `task-status -m stream`, end with the table."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

import yaml

from dtk_api import resources as r
from dtk_api.task_wire import from_status
from kubectl_dtk.client import DtkClient
from kubectl_dtk.context import Context
from kubectl_dtk.streaming import stream_task
from kubectl_dtk.views.table import render_task_table

PLURALS = {r.ASSEMBLY_KIND: r.ASSEMBLY_PLURAL, r.INSTANCE_KIND: r.INSTANCE_PLURAL, r.TASK_KIND: r.TASK_PLURAL}
FIRST_TASK_TIMEOUT_SECONDS = 30.0  # the operator creates it within milliseconds; this catches a stuck one
TASK_TIMEOUT_SECONDS = 600.0


def _apply(client: DtkClient, manifest: Path) -> list[str]:
    """Creates every object of the file; returns the ServiceInstance names."""
    instances = []
    for doc in yaml.safe_load_all(manifest.read_text()):
        if not doc:
            continue
        client.create(PLURALS[doc["kind"]], doc)
        if doc["kind"] == r.INSTANCE_KIND:
            instances.append(doc["metadata"]["name"])
    return instances


def _first_task(client: DtkClient, instance: str) -> str:
    deadline = time.monotonic() + FIRST_TASK_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        found = client.list(r.TASK_PLURAL, labels={r.INSTANCE_LABEL: instance}).get("items", [])
        if found:
            return str(found[0]["metadata"]["name"])
        body: dict[str, Any] = client.get(r.INSTANCE_PLURAL, instance)
        message = (body.get("status") or {}).get("message")
        if message:
            raise RuntimeError(f"{instance}: {message}")
        time.sleep(0.05)
    raise TimeoutError(f"no task appeared for {instance} within {FIRST_TASK_TIMEOUT_SECONDS:g} s")


def run_demo(kubeconfig: Path, manifest: Path, out: TextIO = sys.stdout) -> int:
    ctx = Context(kubeconfig=str(kubeconfig), out=out)
    instances = _apply(ctx.client, manifest)
    if not instances:
        print(f"{manifest}: no ServiceInstance to follow", file=sys.stderr)
        return 2
    task_name = _first_task(ctx.client, instances[0])
    code = stream_task(ctx, task_name, timeout=TASK_TIMEOUT_SECONDS)
    status = from_status(ctx.client.get(r.TASK_PLURAL, task_name).get("status") or {})
    out.write("\n" + render_task_table(status) + "\n")
    out.write(f"task {task_name}: {status.state}\n")
    return code
