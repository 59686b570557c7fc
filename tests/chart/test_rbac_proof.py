"""Issue 9 point 3: the chart's RBAC for the operator is enough and least, proven on what the operator
really asks the API server for, with Kubernetes' RBAC matching rules (dtk_sandbox.kubeapi.rbac).

What the operator asks for comes from the emulator, which logs every request by client (the
User-Agent: kopf's `kopf/...`, the operator's own `dtk-operator/...`):
- e2e-api-access.json, beside this file: a whole e2e run, whose operators each watch their
  test namespace (`-n`). Every e2e session also checks "enough" on what it saw, at its end
  (support/chart_rbac.after_e2e), so an operator that starts needing more fails `make test` even
  before this record is regenerated;
- a cluster-wide run here: the operator started with the arguments the chart's Deployment gives it
  (all namespaces, 2 replicas so --leader-elect), under the chart's roles enforced by the emulator
  (anything they do not allow is answered 403): it restarts where a crash left a Task created but
  not counted, adopts it, runs it, and lets the instance go when it is deleted.
Each is placed where an installation would make it (its watched namespaces, its Lease's namespace;
support/chart_rbac.Installation.place), then held against four renderings in both directions:
every access allowed (enough), every verb on every resource granted needed by one (least), and no
wildcard anywhere. A copy of the chart with one rule taken out, or one verb added, fails exactly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from dtk_api import resources as r
from dtk_operator.engine.tasks import task_body
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.kubeapi.authorization import AccessLog
from dtk_sandbox.kubeapi.rbac import Access, Grant, Rule, denied, wildcards
from support.chart_rbac import (
    CHART,
    NAMESPACED,
    OPERATOR_AGENTS,
    PLUGIN_AGENT,
    RELEASE_NAMESPACE,
    RENDERINGS,
    WATCHED,
    Installation,
    Manifest,
    Recorded,
    never_used,
    not_allowed,
    operator_accesses,
    placed_for,
    read_record,
    render,
    with_discovery,
)
from support.cluster import CRDS, Kube
from support.manifests import assembly, component, instance
from support.moto_server import free_port
from support.targets import ensure_default_target

WORKLOAD_NAMESPACE = "team-a"
START_TIMEOUT = 30.0  # seconds for the operator to serve /metrics (kopf starts in 1-2 s)
STOP_TIMEOUT = 15.0  # seconds for SIGTERM to end it (releasing the Lease takes one request)
RBAC_TEMPLATE = Path("templates") / "rbac.yaml"
EVENTS_RULE = '- apiGroups: [""]\n  resources: [events]\n  verbs: [create]\n'
TASKS_VERBS = "  resources: [tasks]\n  verbs: [create, get, list, watch, patch]\n"
LEASE_RULE = ("  - apiGroups: [coordination.k8s.io]\n    resources: [leases]\n"
              '    resourceNames: [{{ include "dtk-operator.leaseName" . | quote }}]\n    verbs: [get, update]\n')
CRDS_RULE = ("  - apiGroups: [apiextensions.k8s.io]\n    resources: [customresourcedefinitions]\n"
             "    verbs: [list, watch]\n")


@pytest.fixture(scope="module")
def recorded() -> list[Recorded]:
    return read_record()


@dataclass(frozen=True)
class ClusterWideRun:
    outcome: str
    refused: list[tuple[str, Access]]
    accesses: list[Access]


@pytest.fixture(scope="module")
def cluster_wide(tmp_path_factory: pytest.TempPathFactory) -> ClusterWideRun:
    """The operator as the chart deploys it cluster-wide with 2 replicas, its requests held to the
    chart's roles by the emulator. It starts where a previous life was killed: an instance whose
    first Task was created but not yet counted (the one path the e2e suite never takes, adopting its
    own Task: `get tasks`). It runs that Task, and lets the instance go when it is deleted."""
    manifests = render({"replicas": 2, "allowLocalTarget": True})
    installation = Installation.of(manifests)
    accesses = AccessLog()
    emulator = KubeApiEmulator(namespaces=("default", "kube-system", RELEASE_NAMESPACE, WORKLOAD_NAMESPACE),
                               accesses=accesses)
    emulator.enforcement.bind(OPERATOR_AGENTS, with_discovery(installation.grants(manifests)), user=installation.user)
    workdir = tmp_path_factory.mktemp("cluster-wide")
    with ServedApi(emulator) as api:
        api.install_crds(CRDS)
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", api.url)
        ensure_default_target(kubeconfig)  # the admin's part: instances that name no Target run on it
        kube = Kube(kubeconfig, WORKLOAD_NAMESPACE)
        kube.create(r.ASSEMBLY_PLURAL, assembly("app", components=[component("c", "true")], nodes={"a": ["c"]},
                                                stages=[{"name": "c", "components": ["c"]}]))
        created = kube.create(r.INSTANCE_PLURAL, instance("si", "app"))
        # The Task exactly as the operator's previous life created it (its own body builder).
        kube.create(r.TASK_PLURAL, task_body(created, name="si-1", workflow=r.CREATE_WORKFLOW, params={}, sequence=1))
        with operator_as_deployed(manifests, kubeconfig, workdir):
            outcome = _life_of_the_instance(kube)
    return ClusterWideRun(outcome=outcome, refused=emulator.enforcement.refused(),
                          accesses=operator_accesses(accesses.entries()))


def _life_of_the_instance(kube: Kube) -> str:
    """What became of it; a wait that runs out says so instead of failing the fixture, so that the
    tests still show what was refused and what the roles lack."""
    try:
        state = kube.finished_task("si-1")["status"]["state"]
        kube.condition_when(r.INSTANCE_PLURAL, "si", "Ready")
        tasks = [task["metadata"]["name"] for task in kube.tasks_of("si")]
        kube.delete(r.INSTANCE_PLURAL, "si")
        kube.wait("the instance's finalizer to let it go", lambda: kube.get(r.INSTANCE_PLURAL, "si") is None)
    except AssertionError as error:
        return str(error)
    return f"task {state}, tasks {tasks}, instance gone"


@contextmanager
def operator_as_deployed(manifests: list[Manifest], kubeconfig: Path, workdir: Path) -> Iterator[None]:
    """The image's `dtk-operator run` with the Deployment's own arguments; only the ports are made free
    ones, and the login and node folder pointed at this test (a pod has its service account and /tmp)."""
    [deployment] = [doc for doc in manifests if doc["kind"] == "Deployment"]
    args = list(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
    metrics = free_port()
    args[args.index("--metrics-port") + 1] = str(metrics)
    args[args.index("--liveness") + 1] = f"http://127.0.0.1:{free_port()}/healthz"
    run = [] if args[:1] == ["run"] else ["run"]  # the image's entrypoint is `dtk-operator run`
    command = [sys.executable, "-m", "dtk_operator", *run, *args, "--kubeconfig", str(kubeconfig),
               "--local-root", str(workdir / "nodes")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "POD_NAME": "dtk-operator-0", "POD_NAMESPACE": RELEASE_NAMESPACE}
    log = workdir / "operator.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_serving(process, metrics, log)
        yield
    finally:
        process.send_signal(signal.SIGTERM)  # as the kubelet stops a pod: the leader releases its Lease
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _wait_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:  # ends when /metrics answers, the process dies, or the deadline
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the operator did not serve /metrics within {START_TIMEOUT:g} s:\n{log.read_text()[-3000:]}")


def accesses_for(manifests: list[Manifest], recorded: list[Recorded], run: ClusterWideRun) -> list[Access]:
    return placed_for(manifests, by_namespaced=operator_accesses(recorded), by_cluster_wide=run.accesses)


# The cluster-wide run: enough, as a real API server enforcing the roles would show it.

def test_the_operator_deployed_cluster_wide_does_its_work_with_the_charts_roles_alone(
        cluster_wide: ClusterWideRun) -> None:
    refused = [f"refused to {who}: {access}" for who, access in cluster_wide.refused]
    assert refused == [], "\n".join(refused)
    assert cluster_wide.outcome == "task succeeded, tasks ['si-1'], instance gone"
    assert Access(verb="get", group=r.GROUP, resource=r.TASK_PLURAL, namespace=WORKLOAD_NAMESPACE,
                  name="si-1") in cluster_wide.accesses  # its create met its own Task: adopted, not doubled
    cluster_scoped = {(a.verb, a.group, a.combined_resource) for a in cluster_wide.accesses if not a.namespace
                      and not a.path}
    assert ("watch", "dtk.io", "tasks") in cluster_scoped  # it did watch every namespace
    assert ("create", "coordination.k8s.io", "leases") in {(a.verb, a.group, a.resource) for a in cluster_wide.accesses}


# Both directions, every rendering.

@pytest.mark.parametrize("case", RENDERINGS)
def test_the_roles_allow_every_access_the_operator_made(case: str, recorded: list[Recorded],
                                                        cluster_wide: ClusterWideRun) -> None:
    manifests = render(RENDERINGS[case])
    accesses = accesses_for(manifests, recorded, cluster_wide)
    assert accesses
    missing = not_allowed(manifests, accesses)
    assert missing == [], "\n".join(missing)


@pytest.mark.parametrize("case", RENDERINGS)
def test_the_roles_grant_nothing_the_operator_did_not_use(case: str, recorded: list[Recorded],
                                                          cluster_wide: ClusterWideRun) -> None:
    manifests = render(RENDERINGS[case])
    extra = never_used(manifests, accesses_for(manifests, recorded, cluster_wide))
    assert extra == [], "\n".join(extra)


@pytest.mark.parametrize("case", RENDERINGS)
def test_no_role_of_the_chart_has_a_wildcard(case: str) -> None:
    manifests = render(RENDERINGS[case])
    assert [doc for doc in manifests if doc["kind"] in ("Role", "ClusterRole")]
    assert wildcards(manifests) == []


def test_the_record_is_of_operators_told_their_namespaces(recorded: list[Recorded]) -> None:
    """What the placing assumes: the e2e operators (run with -n) asked nothing across all namespaces
    of the five namespaced kinds (Targets are cluster-scoped), and the record is not empty."""
    accesses = operator_accesses(recorded)
    assert {a.resource for a in accesses if a.group == r.GROUP} == {
        r.ASSEMBLY_PLURAL, r.INSTANCE_PLURAL, r.TASK_PLURAL, r.SHARD_PLURAL, r.NODE_SHARD_PLURAL, r.TARGET_PLURAL}
    assert [a for a in accesses if a.group == r.GROUP and a.resource != r.TARGET_PLURAL
            and a.namespace != NAMESPACED] == []
    assert [a for a in accesses if a.resource == r.TARGET_PLURAL and a.namespace] == []


# The proof fails when the chart changes: one rule out, one verb in.

def chart_changed(tmp_path: Path, old: str, new: str) -> Path:
    chart = shutil.copytree(CHART, tmp_path / CHART.name)
    template = chart / RBAC_TEMPLATE
    text = template.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {RBAC_TEMPLATE}"
    template.write_text(text.replace(old, new))
    return chart


def not_allowed_line(verb: str, resource: str, group: str, where: str, name: str = "") -> str:
    return f"not allowed: {Access(verb=verb, group=group, resource=resource, namespace=where, name=name)}"


LEASE = f"dtk-{CHART.name}"  # the chart's default Lease name: its full name
REMOVALS = {  # (rendering, a rule taken out of templates/rbac.yaml, what the proof must then say)
    "events, all namespaces": ("all namespaces", EVENTS_RULE, [
        not_allowed_line("create", "events", "", "any-namespace")]),
    "events, watchNamespaces": ("watchNamespaces", EVENTS_RULE, [
        not_allowed_line("create", "events", "", namespace) for namespace in WATCHED]),
    "the Lease by name, 2 replicas": ("all namespaces, 2 replicas", LEASE_RULE, [
        not_allowed_line("get", "leases", "coordination.k8s.io", RELEASE_NAMESPACE, LEASE),
        not_allowed_line("update", "leases", "coordination.k8s.io", RELEASE_NAMESPACE, LEASE)]),
    "CRDs, all namespaces": ("all namespaces", CRDS_RULE, [
        not_allowed_line("list", "customresourcedefinitions", "apiextensions.k8s.io", ""),
        not_allowed_line("watch", "customresourcedefinitions", "apiextensions.k8s.io", "")]),
}


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_rule_removed_from_the_chart_fails_the_proof_with_the_accesses_it_allowed(
        removal: str, tmp_path: Path, recorded: list[Recorded], cluster_wide: ClusterWideRun) -> None:
    case, rule, expected = REMOVALS[removal]
    manifests = render(RENDERINGS[case], chart_changed(tmp_path, rule, ""))
    assert not_allowed(manifests, accesses_for(manifests, recorded, cluster_wide)) == expected


def test_a_verb_added_to_the_chart_fails_the_proof_as_never_used(
        tmp_path: Path, recorded: list[Recorded], cluster_wide: ClusterWideRun) -> None:
    added = TASKS_VERBS.replace("patch]", "patch, delete]")
    manifests = render(RENDERINGS["watchNamespaces"], chart_changed(tmp_path, TASKS_VERBS, added))
    assert never_used(manifests, accesses_for(manifests, recorded, cluster_wide)) == [
        'never used: Role/dtk-dtk-operator: delete tasks in API group "dtk.io"']


# For people: the three kinds in the built-in view, edit and admin roles.

def test_people_read_the_kinds_through_view_and_write_them_through_edit_and_admin(
        recorded: list[Recorded]) -> None:
    manifests = render({})
    roles = {doc["metadata"]["name"]: doc for doc in manifests if doc["kind"] == "ClusterRole"}
    view, edit = roles["dtk-dtk-operator-view"], roles["dtk-dtk-operator-edit"]
    target_viewer = roles["dtk-dtk-operator-target-viewer"]
    aggregate = "rbac.authorization.k8s.io/aggregate-to-"
    assert {k for k, v in view["metadata"]["labels"].items() if k.startswith(aggregate) and v == "true"} == {
        aggregate + "view"}
    assert {k for k, v in edit["metadata"]["labels"].items() if k.startswith(aggregate) and v == "true"} == {
        aggregate + "edit", aggregate + "admin"}
    # Targets: read by everyone who may view, written by nobody but the cluster's admins
    assert {k for k, v in target_viewer["metadata"]["labels"].items() if k.startswith(aggregate) and v == "true"} \
        == {aggregate + "view"}
    assert [Rule.from_wire(rule) for rule in target_viewer["rules"]] == [
        Rule(verbs=("get", "list", "watch"), api_groups=("dtk.io",), resources=("targets",))]
    kinds = ("assemblies", "serviceinstances", "tasks")
    assert [Rule.from_wire(rule) for rule in view["rules"]] == [
        Rule(verbs=("get", "list", "watch"), api_groups=("dtk.io",), resources=kinds),
        Rule(verbs=("get", "list", "watch"), api_groups=("dtk.io",), resources=("taskshards", "nodeshards"))]
    assert [Rule.from_wire(rule) for rule in edit["rules"]] == [
        Rule(verbs=("get", "list", "watch", "create", "update", "patch", "delete"), api_groups=("dtk.io",),
             resources=kinds)]
    # kubectl dtk, as the e2e suite used it, needs nothing more than edit gives. Kubernetes' own
    # `view` role aggregates into `edit` (its aggregate-to-edit label), so an editor also holds
    # what the chart adds to view: reading the shards, which only the operator writes.
    rules = tuple(Rule.from_wire(x) for x in [*edit["rules"], *view["rules"], *target_viewer["rules"]])
    person = [Grant(role="ClusterRole/edit", namespace="", rules=rules)]
    used = [access for agent, access in recorded if agent == PLUGIN_AGENT and access.group == r.GROUP]
    assert used
    assert denied(person, used) == []
