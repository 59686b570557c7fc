"""Captures the objects behind the Argo CD health checks' testdata from a real run.

An API server (the emulator, or the cluster DTK_TEST_KUBECONFIG names) and the operator as a real
process (`dtk-operator run`, local target) are driven through every state of SPEC section 6's
table; each object is read back from the API once it is in its state and written, cleaned of
server bookkeeping, to helm/dtk-operator/argocd/dtk.io/<Kind>/testdata/<name>.yaml.

    .venv/bin/python tests/argocd/capture.py            # regenerates every file
    .venv/bin/python tests/argocd/capture.py --list     # the names it writes

tests/argocd/test_capture_drift.py runs it again on every test run (about 10 s) and compares what
the health checks read, so the committed files cannot drift away from what the operator writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from argocd_lua import GROUP_DIR
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from dtk_api import resources as r
from support.cluster import Kube, api_server
from support.manifests import assembly, component, condition, instance, steps_of, task
from support.operator_process import OperatorProcess

NAMESPACE = "dtk-demo"  # fixed, so that messages naming it are the same on every run
GATE_FILE = "go"  # a gated step waits for this file in its node's directory; no scenario opens it
GATE_DEADLINE_TENTHS = 600  # so a gated step fails after 60 s unless cancelled first: nothing hangs on it
KEPT_METADATA = ("name", "namespace", "generation", "labels", "deletionTimestamp")
HEADER = ("# Captured from a real run by tests/argocd/capture_states.py (operator + API server);\n"
          "# regenerate with `.venv/bin/python tests/argocd/capture.py`, do not edit by hand.\n")

Body = dict[str, Any]


def cleaned(body: Mapping[str, Any]) -> Body:
    """The object without server bookkeeping (uid, resourceVersion, managedFields, timestamps of
    creation, annotations kopf keeps its progress in); spec and status exactly as stored."""
    meta = body.get("metadata") or {}
    out: Body = {"apiVersion": body["apiVersion"], "kind": body["kind"],
                 "metadata": {key: meta[key] for key in KEPT_METADATA if key in meta}}
    if "spec" in body:
        out["spec"] = body["spec"]
    if "status" in body:
        out["status"] = body["status"]
    return out


def fixture_path(name: str) -> Path:
    """`name` is `<Kind>/<file stem>`, e.g. `Task/failed`."""
    kind, stem = name.split("/")
    return GROUP_DIR / kind / "testdata" / f"{stem}.yaml"


def write_fixture(name: str, body: Mapping[str, Any]) -> Path:
    path = fixture_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(cleaned(body), sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
    path.write_text(HEADER + text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- what the scenarios deploy

def gate_step() -> str:
    return (f'i=0; while [ ! -e "$DTK_NODE_DIR/{GATE_FILE}" ]; do i=$((i+1)); '
            f"[ $i -gt {GATE_DEADLINE_TENTHS} ] && exit 9; sleep 0.1; done")


def assemblies() -> list[Body]:
    """`app` converges at once; `gated` waits in its second stage until its gate opens; `failing`
    fails in its second stage; `broken` is invalid (a stage names a component nobody defines)."""
    base = component("base", "echo base on $DTK_NODE")
    return [
        assembly("app", components=[base], nodes={"web": ["base"]}, stages=[{"name": "base", "components": ["base"]}]),
        assembly("gated", components=[base, component("gate", gate_step())], nodes={"web": ["base", "gate"]},
                 stages=[{"name": "base", "components": ["base"]}, {"name": "gate", "components": ["gate"]}],
                 workflows=[{"name": "again", "stages": [{"name": "again", "components": ["base"]}]}]),
        assembly("failing", components=[base, component("disk", "echo 'disk full' >&2; exit 3")],
                 nodes={"web": ["base", "disk"]},
                 stages=[{"name": "base", "components": ["base"]}, {"name": "disk", "components": ["disk"]}]),
        assembly("broken", components=[base], nodes={"web": ["base"]},
                 stages=[{"name": "base", "components": ["base"]}, {"name": "missing", "components": ["nowhere"]}]),
    ]


def assembly_named(name: str) -> Body:
    return next(a for a in assemblies() if a["metadata"]["name"] == name)


# ---------------------------------------------------------------- the session

@dataclass
class Session:
    kube: Kube
    operator: OperatorProcess
    captured: dict[str, Body] = field(default_factory=dict)

    def take(self, name: str, body: Mapping[str, Any]) -> None:
        self.captured[name] = cleaned(body)

    def get(self, plural: str, name: str) -> Body:
        body = self.kube.get(plural, name)
        if body is None:
            raise AssertionError(f"{plural}/{name} is gone")
        return body

    def when(self, plural: str, name: str, what: str, predicate: Callable[[Body], bool],
             timeout: float = 30.0) -> Body:
        def probe() -> Body | None:
            body = self.kube.get(plural, name)
            return body if body is not None and predicate(body) else None

        found: Body = self.kube.wait(f"{plural}/{name}: {what}", probe, timeout)
        return found

    def observed(self, plural: str, name: str, what: str, predicate: Callable[[Body], bool]) -> Body:
        """Once the operator has observed the current generation and `predicate` holds."""
        return self.when(plural, name, what, lambda b: _observed(b) and predicate(b))


def _observed(body: Mapping[str, Any]) -> bool:
    status = body.get("status") or {}
    return bool(status.get("observedGeneration") == body["metadata"].get("generation"))


def _cond(body: Mapping[str, Any], kind: str, status: str, reason: str = "") -> bool:
    found = condition(dict(body), kind)
    return found.get("status") == status and (not reason or found.get("reason") == reason)


def _state(body: Mapping[str, Any]) -> str:
    return str((body.get("status") or {}).get("state") or "")


def _row(body: Mapping[str, Any], index: str) -> str:
    return str(steps_of(dict(body)).get(index, {}).get("status") or "")


# ---------------------------------------------------------------- scenarios, in the order they run

def before_operator(s: Session) -> None:
    """Nothing has looked at these yet: no status at all."""
    s.kube.create(r.ASSEMBLY_PLURAL, assembly_named("app"))
    s.take("Assembly/no-status", s.get(r.ASSEMBLY_PLURAL, "app"))
    for name in ("fresh", "steady"):
        s.kube.create(r.INSTANCE_PLURAL, instance(name, "app"))
    s.take("ServiceInstance/no-status", s.get(r.INSTANCE_PLURAL, "fresh"))
    s.kube.create(r.TASK_PLURAL, task("unseen", "fresh", "create"))
    s.take("Task/no-status", s.get(r.TASK_PLURAL, "unseen"))
    s.kube.delete(r.TASK_PLURAL, "unseen")  # nobody saw it: it goes at once, and nothing runs it
    s.kube.wait("the unseen task to be gone", lambda: s.kube.get(r.TASK_PLURAL, "unseen") is None)


def validated_assemblies(s: Session) -> None:
    s.take("Assembly/valid", s.observed(r.ASSEMBLY_PLURAL, "app", "Ready", lambda b: _cond(b, "Ready", "True")))
    s.kube.create(r.ASSEMBLY_PLURAL, assembly_named("broken"))
    s.take("Assembly/invalid",
           s.observed(r.ASSEMBLY_PLURAL, "broken", "Stalled", lambda b: _cond(b, "Stalled", "True")))


def converged(s: Session) -> None:
    s.observed(r.INSTANCE_PLURAL, "steady", "Ready", lambda b: _cond(b, "Ready", "True"))
    s.take("ServiceInstance/ready",
           s.observed(r.INSTANCE_PLURAL, "fresh", "Ready", lambda b: _cond(b, "Ready", "True")))
    s.take("Task/succeeded", s.when(r.TASK_PLURAL, "fresh-1", "succeeded", lambda b: _state(b) == "succeeded"))


def busy(s: Session) -> None:
    """A converge waiting at its gate, a hand-made Task queued behind it, then the converge cancelled."""
    s.kube.create(r.ASSEMBLY_PLURAL, assembly_named("gated"))
    s.kube.create(r.INSTANCE_PLURAL, instance("busy", "gated"))
    s.take("Task/executing", s.when(r.TASK_PLURAL, "busy-1", "at its gate", lambda b: _row(b, "3") == "executing"))
    s.kube.create(r.TASK_PLURAL, task("busy-again", "busy", "again"))
    s.take("Task/pending", s.when(r.TASK_PLURAL, "busy-again", "queued",
                                  lambda b: _state(b) == "pending" and bool((b.get("status") or {}).get("message"))))
    s.take("ServiceInstance/reconciling",
           s.observed(r.INSTANCE_PLURAL, "busy", "Reconciling", lambda b: _cond(b, "Reconciling", "True")))
    s.kube.patch(r.TASK_PLURAL, "busy-1", {"spec": {"cancel": True}})
    s.take("Task/cancelled", s.when(r.TASK_PLURAL, "busy-1", "cancelled", lambda b: _state(b) == "cancelled"))
    s.when(r.TASK_PLURAL, "busy-again", "succeeded", lambda b: _state(b) == "succeeded")
    s.take("ServiceInstance/stalled-task-cancelled",
           s.observed(r.INSTANCE_PLURAL, "busy", "Stalled, nothing running",
                      lambda b: _cond(b, "Stalled", "True", "TaskCancelled") and _cond(b, "Reconciling", "False")))


def failing(s: Session) -> None:
    s.kube.create(r.ASSEMBLY_PLURAL, assembly_named("failing"))
    s.kube.create(r.INSTANCE_PLURAL, instance("broken-run", "failing"))
    s.take("Task/failed", s.when(r.TASK_PLURAL, "broken-run-1", "failed", lambda b: _state(b) == "failed"))
    s.take("ServiceInstance/stalled-task-failed",
           s.observed(r.INSTANCE_PLURAL, "broken-run", "Stalled",
                      lambda b: _cond(b, "Stalled", "True", "TaskFailed") and _cond(b, "Reconciling", "False")))


def misconfigured(s: Session) -> None:
    s.kube.create(r.INSTANCE_PLURAL, instance("orphan", "nowhere"))
    s.take("ServiceInstance/stalled-assembly-not-found",
           s.observed(r.INSTANCE_PLURAL, "orphan", "Stalled", lambda b: _cond(b, "Stalled", "True")))
    s.kube.create(r.INSTANCE_PLURAL, instance("bad-groups", "app", nodeGroups=[{"name": "workers", "cardinality": 2}]))
    s.take("ServiceInstance/stalled-invalid-spec",
           s.observed(r.INSTANCE_PLURAL, "bad-groups", "Stalled", lambda b: _cond(b, "Stalled", "True", "InvalidSpec")))


def staged(s: Session) -> None:
    s.kube.create(r.INSTANCE_PLURAL, instance("later", "app", staged=True))
    s.take("ServiceInstance/staged",
           s.observed(r.INSTANCE_PLURAL, "later", "Staged", lambda b: _cond(b, "Ready", "False", "Staged")))


def stopped(s: Session) -> None:
    """`fresh` (Ready, see converged) powered off; `halted` powered off while its converge runs."""
    s.kube.patch(r.INSTANCE_PLURAL, "fresh", {"spec": {"power": "stopped"}})
    s.take("ServiceInstance/stopped", s.observed(
        r.INSTANCE_PLURAL, "fresh", "Stopped",
        lambda b: _cond(b, "Ready", "False", "Stopped") and (b.get("status") or {}).get("phase") == "stopped"))
    s.kube.create(r.INSTANCE_PLURAL, instance("halted", "gated"))
    s.when(r.TASK_PLURAL, "halted-1", "at its gate", lambda b: _row(b, "3") == "executing")
    s.kube.patch(r.INSTANCE_PLURAL, "halted", {"spec": {"power": "stopped"}})
    s.take("ServiceInstance/stopped-while-running", s.observed(
        r.INSTANCE_PLURAL, "halted", "Stopped, its converge cancelled",
        lambda b: _cond(b, "Ready", "False", "Stopped") and _cond(b, "Stalled", "True", "TaskCancelled")
        and (b.get("status") or {}).get("phase") == "stopped"))


def not_deployed(s: Session) -> None:
    """The only converge Task deleted while it runs: the instance has none any more."""
    s.kube.create(r.INSTANCE_PLURAL, instance("gone", "gated"))
    s.when(r.TASK_PLURAL, "gone-1", "at its gate", lambda b: _row(b, "3") == "executing")
    s.kube.delete(r.TASK_PLURAL, "gone-1")
    s.take("ServiceInstance/not-deployed", s.observed(
        r.INSTANCE_PLURAL, "gone", "NotDeployed",
        lambda b: _cond(b, "Ready", "False", "NotDeployed") and _cond(b, "Reconciling", "False")))


def after_operator(s: Session) -> None:
    """The operator is down while the spec changes: the status is a generation behind."""
    s.kube.patch(r.INSTANCE_PLURAL, "steady", {"spec": {"attributes": {"web/base.motd": "hello"}}})
    s.take("ServiceInstance/generation-not-observed", s.when(
        r.INSTANCE_PLURAL, "steady", "a generation ahead of its status", lambda b: not _observed(b)))
    s.kube.patch(r.ASSEMBLY_PLURAL, "app", {"spec": {"description": "the app, described again"}})
    s.take("Assembly/not-observed", s.when(
        r.ASSEMBLY_PLURAL, "app", "a generation ahead of its status", lambda b: not _observed(b)))


Scenario = Callable[[Session], None]
# BEFORE and AFTER run with the operator stopped, RUNNING with it running, in this order.
BEFORE: tuple[Scenario, ...] = (before_operator,)
RUNNING: tuple[Scenario, ...] = (validated_assemblies, converged, busy, failing, misconfigured, staged, stopped,
                                 not_deployed)
AFTER: tuple[Scenario, ...] = (after_operator,)
EXPECTED_NAMES: tuple[str, ...] = (
    "Assembly/no-status", "Assembly/valid", "Assembly/invalid", "Assembly/not-observed",
    "ServiceInstance/no-status", "ServiceInstance/generation-not-observed", "ServiceInstance/reconciling",
    "ServiceInstance/not-deployed", "ServiceInstance/ready", "ServiceInstance/stalled-assembly-not-found",
    "ServiceInstance/stalled-invalid-spec", "ServiceInstance/stalled-task-failed",
    "ServiceInstance/stalled-task-cancelled", "ServiceInstance/stopped", "ServiceInstance/stopped-while-running",
    "ServiceInstance/staged",
    "Task/no-status", "Task/pending", "Task/executing", "Task/succeeded", "Task/failed", "Task/cancelled",
)


@contextmanager
def session(workdir: Path) -> Iterator[Session]:
    """An API server with the CRDs, the namespace NAMESPACE, and an operator not yet started."""
    with api_server(workdir) as kubeconfig:
        api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
        api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=NAMESPACE)))
        operator = OperatorProcess(kubeconfig=kubeconfig, namespace=NAMESPACE, workdir=workdir)
        try:
            yield Session(Kube(kubeconfig, NAMESPACE), operator)
        finally:
            operator.stop()
            api.delete_namespace(NAMESPACE)


def run(s: Session) -> dict[str, Body]:
    """Runs the scenarios; returns {`<Kind>/<name>`: cleaned object}."""
    for scenario in BEFORE:
        scenario(s)
    s.operator.start()
    for scenario in RUNNING:
        started = time.monotonic()
        scenario(s)
        print(f"  {scenario.__name__}: {time.monotonic() - started:.1f} s", flush=True)
    s.operator.stop()
    for scenario in AFTER:
        scenario(s)
    return s.captured
