"""`sandbox --demo FILE`: apply FILE, stream its Task like `task-status -m stream`, end with the table.

FILE is read and checked (`load_demo`) before the sandbox starts anything or writes anything, so a
typo in its name or its YAML costs one line, not a sandbox start and a traceback.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from dtk_api import resources as r
from dtk_api.task_wire import from_status
from kubectl_dtk.api.client import DtkClient
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError
from kubectl_dtk.follow.stream import stream_task
from kubectl_dtk.views.table import render_task_table

PLURALS = {r.ASSEMBLY_KIND: r.ASSEMBLY_PLURAL, r.INSTANCE_KIND: r.INSTANCE_PLURAL, r.TASK_KIND: r.TASK_PLURAL}
FIRST_TASK_TIMEOUT_SECONDS = 30.0  # the operator creates it within milliseconds; this catches a stuck one
TASK_TIMEOUT_SECONDS = 600.0


class DemoError(ValueError):
    """FILE cannot make a demo (unreadable, not YAML, not our objects, refused, no Task): one line, exit 2."""


@dataclass(frozen=True)
class Demo:
    path: Path
    documents: tuple[dict[str, Any], ...]
    instance: str  # the first ServiceInstance: its Task is the one streamed


def load_demo(path: Path) -> Demo:
    """FILE's objects, each an Assembly, ServiceInstance or Task of our API version with a name."""
    try:
        loaded = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    except OSError as error:
        raise DemoError(f"demo file {path}: cannot read it ({error.strerror})") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise DemoError(f"demo file {path}: not YAML ({_problem(error)})") from error
    documents = tuple(_checked(path, number, doc) for number, doc in enumerate(loaded, start=1))
    instances = [doc["metadata"]["name"] for doc in documents if doc["kind"] == r.INSTANCE_KIND]
    if not instances:
        raise DemoError(f"demo file {path}: no ServiceInstance to follow")
    return Demo(path=path, documents=documents, instance=instances[0])


def _checked(path: Path, number: int, doc: object) -> dict[str, Any]:
    where = f"demo file {path}, document {number}"
    if not isinstance(doc, dict):
        raise DemoError(f"{where}: not an object (a YAML mapping with apiVersion, kind and metadata)")
    if doc.get("kind") not in PLURALS or doc.get("apiVersion") != r.API_VERSION:
        raise DemoError(f"{where}: {doc.get('apiVersion')} {doc.get('kind')} is not a {r.API_VERSION} "
                        f"{r.ASSEMBLY_KIND}, {r.INSTANCE_KIND} or {r.TASK_KIND}")
    if not isinstance((doc.get("metadata") or {}).get("name"), str):
        raise DemoError(f"{where}: {doc['kind']} without metadata.name")
    return doc


def _problem(error: Exception) -> str:
    """PyYAML's error in one line, what and where (its own text spans several lines)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} at line {error.problem_mark.line + 1}"
    return " ".join(str(error).split())


def _apply(client: DtkClient, demo: Demo) -> None:
    for doc in demo.documents:
        try:
            client.create(PLURALS[doc["kind"]], doc)
        except ApiError as error:  # the API's refusal of FILE's content, e.g. a schema violation
            message = " ".join(str(error).split())
            raise DemoError(f"demo file {demo.path}: {doc['kind']} {doc['metadata']['name']}: {message}") from error


def _first_task(client: DtkClient, demo: Demo) -> str:
    deadline = time.monotonic() + FIRST_TASK_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        found = client.list(r.TASK_PLURAL, labels={r.INSTANCE_LABEL: demo.instance}).get("items", [])
        if found:
            return str(found[0]["metadata"]["name"])
        body: dict[str, Any] = client.get(r.INSTANCE_PLURAL, demo.instance)
        message = (body.get("status") or {}).get("message")
        if message:  # the operator refused the instance (an unknown assembly, say): FILE must change
            raise DemoError(f"demo file {demo.path}: ServiceInstance {demo.instance}: {message}")
        time.sleep(0.05)
    raise TimeoutError(f"no task appeared for {demo.instance} within {FIRST_TASK_TIMEOUT_SECONDS:g} s")


def run_demo(kubeconfig: Path, demo: Demo, out: TextIO = sys.stdout) -> int:
    ctx = Context(kubeconfig=str(kubeconfig), out=out)
    _apply(ctx.client, demo)
    task_name = _first_task(ctx.client, demo)
    code = stream_task(ctx, task_name, timeout=TASK_TIMEOUT_SECONDS)
    status = from_status(ctx.client.get(r.TASK_PLURAL, task_name).get("status") or {})
    out.write("\n" + render_task_table(status) + "\n")
    out.write(f"task {task_name}: {status.state}\n")
    return code
