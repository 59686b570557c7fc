"""A tenant with the chart's aggregated `edit` role in team-a, on an API server that enforces RBAC
for it (the emulator's, with the chart's rendered roles): it cannot touch Targets, cannot use one
that does not allow team-a (and the operator calls no AWS API for it, beyond checking that Target),
and converges on one that does. Also: a Target in use is kept until its instances are gone, and one
that stops allowing a namespace lets the running Task finish but starts nothing new there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.kubeapi.rbac import Grant, Rule
from support.aws_proxy import AwsProxy, aws_proxy
from support.chart_rbac import render
from support.cluster import CRDS, Kube
from support.ec2 import cluster, secret
from support.gates import gate_step
from support.manifests import assembly, component, condition, ec2_instance, instance, task
from support.moto_server import MotoServer
from support.operator_process import OperatorProcess
from support.targets import target_body

TENANT_AGENT = "tenant-kubectl"  # the User-Agent product the emulator holds to the tenant's roles
TEAM_A, TEAM_B = "team-a", "team-b"


def tenant_grants() -> list[Grant]:
    """What alice holds: a RoleBinding of `edit` in team-a, which gets the chart's roles aggregated
    into edit and view (Kubernetes' `view` aggregates into `edit`), in team-a only; and what the
    chart gives every authenticated user cluster-wide (ClusterRoleBindings to system:authenticated)."""
    manifests = render({})
    roles = {doc["metadata"]["name"]: doc for doc in manifests if doc["kind"] == "ClusterRole"}
    aggregated = [role for role in roles.values() if any(
        key.startswith("rbac.authorization.k8s.io/aggregate-to-") for key in role["metadata"]["labels"])]
    everyone = [roles[doc["roleRef"]["name"]] for doc in manifests if doc["kind"] == "ClusterRoleBinding"
                and {"kind": "Group", "name": "system:authenticated"} in [
                    {k: subject[k] for k in ("kind", "name")} for subject in doc["subjects"]]]
    assert everyone, "the chart lets no user read Targets"
    return [Grant(role="ClusterRole/edit", namespace=TEAM_A,
                  rules=tuple(Rule.from_wire(rule) for role in aggregated for rule in role["rules"])),
            Grant(role="ClusterRole/authenticated", namespace="",
                  rules=tuple(Rule.from_wire(rule) for role in everyone for rule in role["rules"]))]


def as_tenant(kubeconfig: Path) -> k8s.CustomObjectsApi:
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig))
    api.user_agent = f"{TENANT_AGENT}/1.0"
    return k8s.CustomObjectsApi(api)


@contextmanager
def tenant_cluster(workdir: Path) -> Iterator[tuple[Path, KubeApiEmulator]]:
    emulator = KubeApiEmulator(namespaces=("default", "kube-system", TEAM_A, TEAM_B))
    emulator.enforcement.bind([TENANT_AGENT], tenant_grants(), user="alice")
    with ServedApi(emulator) as api:
        api.install_crds(CRDS)
        yield write_kubeconfig(workdir / "kubeconfig", api.url), emulator


def forbidden(call: Any) -> str:
    with pytest.raises(ApiException) as refused:
        call()
    assert refused.value.status == 403
    return str(refused.value.body)


def test_a_tenant_uses_only_the_targets_that_allow_its_namespace(tmp_path: Path, moto: MotoServer) -> None:
    with tenant_cluster(tmp_path) as (kubeconfig, emulator), aws_proxy(moto.url) as team_b_proxy, \
            aws_proxy(moto.url) as team_a_proxy:
        admin = Kube(kubeconfig, TEAM_A)
        secret(admin, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        for name, proxy, allowed in (("b-only", team_b_proxy, TEAM_B), ("a-ok", team_a_proxy, TEAM_A)):
            body = target_body(name, endpoint=proxy.url, secret={"name": "aws-creds", "namespace": TEAM_A},
                               allowed={"list": [allowed]})
            admin.custom.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, body)
        admin.create(r.ASSEMBLY_PLURAL, cluster())
        operator = OperatorProcess(kubeconfig=kubeconfig, namespace=TEAM_A, workdir=tmp_path).start()
        try:
            tenant = as_tenant(kubeconfig)
            mine = target_body("mine", endpoint="http://127.0.0.1:18765", allowed={})
            says = forbidden(lambda: tenant.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, mine))
            assert ('User \\"alice\\" cannot create resource \\"targets\\" in API group \\"dtk.io\\" at the '
                    'cluster scope') in says
            forbidden(lambda: tenant.patch_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, "a-ok", {
                "spec": {"allowedNamespaces": {}}}))
            assert [t["metadata"]["name"] for t in tenant.list_cluster_custom_object(
                r.GROUP, r.VERSION, r.TARGET_PLURAL)["items"]] == ["a-ok", "b-only"]  # reading is allowed

            tenant.create_namespaced_custom_object(r.GROUP, r.VERSION, TEAM_A, r.INSTANCE_PLURAL,
                                                   ec2_instance("sneaky", "hdfs", target="b-only"))
            stalled = condition(admin.condition_when(r.INSTANCE_PLURAL, "sneaky", "Stalled"), "Stalled")
            assert stalled["reason"] == "TargetNotAllowed", stalled
            assert stalled["message"] == "Target 'b-only' does not allow namespace team-a (its allowedNamespaces)"
            admin.event_seen("sneaky", "TargetNotAllowed", kind="Warning")

            tenant.create_namespaced_custom_object(r.GROUP, r.VERSION, TEAM_A, r.INSTANCE_PLURAL,
                                                   ec2_instance("fine", "hdfs", target="a-ok"))
            done = admin.finished_task(admin.first_task("fine"), timeout=60)
            assert done["status"]["state"] == "succeeded", done["status"].get("failure")
            assert team_a_proxy.calls["RunInstances"] >= 1
            # b-only's endpoint saw its own readiness check and nothing for the instance of team-a
            assert set(team_b_proxy.calls) == {"GetCallerIdentity"}, team_b_proxy.calls
            assert admin.tasks_of("sneaky") == []
            assert [who for who, _ in emulator.enforcement.refused()] == [TENANT_AGENT, TENANT_AGENT]
        finally:
            operator.stop()


def test_a_target_in_use_is_kept_until_its_instances_are_gone(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, targets: Any) -> None:
    secret(kube, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    kube.create(r.ASSEMBLY_PLURAL, cluster())
    name = targets.create(target_body("held", endpoint=ec2_proxy.url, secret={"name": "aws-creds"},
                                      allowed={"list": [kube.namespace]}))
    kube.create(r.INSTANCE_PLURAL, ec2_instance("c1", "hdfs", target=name))
    kube.finished_task(kube.first_task("c1"))
    kube.wait("the Target to count its instance", lambda: ((targets.get(name) or {}).get("status") or {})
              .get("instances") == 1)
    kube.custom.delete_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, name)
    held = kube.wait("the deletion to be held", lambda: (targets.get(name) or {}).get("metadata", {})
                     .get("deletionTimestamp"))
    assert held and targets.get(name) is not None  # still there: its instance's machines run through it
    kube.delete(r.INSTANCE_PLURAL, "c1")
    kube.wait("the instance to be released", lambda: kube.get(r.INSTANCE_PLURAL, "c1") is None, timeout=60)
    kube.wait("the Target to go once unused", lambda: targets.get(name) is None and "gone", timeout=30)
    assert ec2_proxy.calls["TerminateInstances"] >= 1  # the machines were terminated through it first


def test_a_target_that_stops_allowing_the_namespace_lets_the_running_task_finish_and_refuses_the_next(
        kube: Kube, operator: OperatorProcess, targets: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    name = targets.create(target_body("revoked", "local", allowed={"list": [kube.namespace]}))
    kube.create(r.ASSEMBLY_PLURAL, assembly("held", components=[component("wait", gate_step(gate))],
                                            nodes={"web": ["wait"]}, stages=[{"name": "wait", "components": ["wait"]}],
                                            workflows=[{"name": "again", "stages": [{"name": "again",
                                                                                     "components": ["wait"]}]}]))
    kube.create(r.INSTANCE_PLURAL, instance("app", "held", targetRef={"name": name}))
    first = kube.first_task("app")
    kube.task_when(first, lambda t: (t.get("status") or {}).get("state") == "executing")
    targets.patch(name, {"spec": {"allowedNamespaces": {"list": ["team-z"]}}})  # the admin takes it back
    stalled = condition(kube.condition_when(r.INSTANCE_PLURAL, "app", "Stalled"), "Stalled")
    assert stalled["reason"] == "TargetNotAllowed", stalled
    gate.touch()
    assert kube.finished_task(first)["status"]["state"] == "succeeded"  # the running one went on
    kube.create(r.TASK_PLURAL, task("app-again", "app", "again"))
    refused = kube.finished_task("app-again")["status"]
    assert refused["state"] == "failed" and refused["failure"]["message"] == (
        f"task is invalid: Target '{name}' does not allow namespace {kube.namespace} (its allowedNamespaces)")
    kube.delete(r.INSTANCE_PLURAL, "app")  # its machines are still released through the Target
    kube.wait("the instance to be released", lambda: kube.get(r.INSTANCE_PLURAL, "app") is None, timeout=60)
