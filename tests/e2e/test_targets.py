"""Targets (cluster-scoped, admin-owned): the operator says whether each is usable, checking an
ec2 Target's credentials, role and endpoint with sts:GetCallerIdentity against moto."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dtk_sandbox.kubeapi.authorization import Denials
from support.aws_proxy import AwsProxy
from support.cluster import Kube
from support.ec2 import secret
from support.moto_server import free_port
from support.operator_process import OperatorProcess
from support.plugin import dtk
from support.private_api import private_api
from support.targets import DEFAULT_TARGET, Targets, target_body

MOTO_ACCOUNT = "123456789012"  # the account moto answers for


def test_a_local_target_is_ready_and_shows_in_kubectl(kube: Kube, operator: OperatorProcess, targets: Targets) -> None:
    name = targets.create(target_body("dev", "local", allowed={"list": [kube.namespace]}, default=True))
    ready = targets.ready_condition(name)
    assert (ready["status"], ready["reason"]) == ("True", "LocalTarget")
    listed = subprocess.run(["kubectl", "--kubeconfig", str(kube.kubeconfig), "get", "dtktarget", name],
                            capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "PROVIDER", "REGION", "DEFAULT", "READY", "INSTANCES", "AGE"]
    cells = row.split()  # REGION and INSTANCES have no value here (a blank, or kubectl's <none>)
    assert cells[:2] == [name, "local"] and "true" in cells and "True" in cells


def test_an_ec2_target_with_good_credentials_is_ready_with_its_account(
        kube: Kube, operator: OperatorProcess, targets: Targets, ec2_proxy: AwsProxy) -> None:
    secret(kube, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    name = targets.create(target_body("moto", endpoint=ec2_proxy.url,
                                      secret={"name": "aws-creds", "namespace": kube.namespace}, allowed={}))
    ready = targets.ready_condition(name)
    assert (ready["status"], ready["reason"]) == ("True", "CredentialsVerified"), ready["message"]
    assert (targets.get(name) or {})["status"]["accountID"] == MOTO_ACCOUNT
    assert ec2_proxy.calls["GetCallerIdentity"] >= 1 and ec2_proxy.calls["RunInstances"] == 0


def test_a_missing_secret_or_a_dead_endpoint_is_not_ready_saying_why(
        kube: Kube, operator: OperatorProcess, targets: Targets, ec2_proxy: AwsProxy) -> None:
    no_secret = targets.create(target_body("nosecret", endpoint=ec2_proxy.url,
                                           secret={"name": "absent", "namespace": kube.namespace}))
    missing = targets.ready_condition(no_secret)
    assert (missing["status"], missing["reason"]) == ("False", "CredentialsNotFound")
    assert missing["message"] == f"credentials secret 'absent' not found in namespace {kube.namespace}"

    secret(kube, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    dead = targets.create(target_body("dead", endpoint=f"http://127.0.0.1:{free_port()}",
                                      secret={"name": "aws-creds", "namespace": kube.namespace}))
    refused = targets.ready_condition(dead)
    assert (refused["status"], refused["reason"]) == ("False", "CredentialsRefused")
    assert refused["message"].startswith("sts:GetCallerIdentity: EndpointConnectionError")
    assert "s3cr3t" not in str(targets.get(dead))

    targets.patch(dead, {"spec": {"ec2": {"endpointURL": ec2_proxy.url}}})  # mended: the condition follows
    mended = targets.ready_condition(dead)
    assert (mended["status"], mended["reason"]) == ("True", "CredentialsVerified")


def test_list_targets_says_which_the_namespace_may_use(kube: Kube, operator: OperatorProcess, targets: Targets) -> None:
    here = targets.create(target_body("here", "local", allowed={"list": [kube.namespace]}))
    elsewhere = targets.create(target_body("elsewhere", "local", allowed={"list": ["team-z"]}))
    for name in (here, elsewhere):
        targets.ready_condition(name)
    listed = dtk(kube.kubeconfig, kube.namespace, "list-targets")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [c.strip() for c in lines[1].split("|")[1:-1]] == [
        "NAME", "PROVIDER", "REGION", "DEFAULT", "READY", "INSTANCES", "ALLOWED HERE"]
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.split("|")[1:-1]] for line in lines[3:-2])}
    assert rows[here] == [here, "local", "", "", "True", "0", "yes"]
    assert rows[elsewhere] == [elsewhere, "local", "", "", "True", "0", "no"]
    assert rows[DEFAULT_TARGET][3:7:3] == ["yes", "yes"]  # the session's default, allowed here


def test_a_secret_the_operator_may_not_read_leaves_the_target_not_ready_saying_so(tmp_path: Path) -> None:
    """As with the chart's roles, which let it read Secrets in its own namespace only."""
    denials = Denials()
    denials.deny("get", "", "secrets")
    with private_api(tmp_path, denials=denials) as (kube, _operator):
        name = Targets(kube).create(target_body("far", endpoint="http://127.0.0.1:9",
                                                secret={"name": "aws-creds", "namespace": "team-b"}))
        refused = Targets(kube).ready_condition(name)
        assert (refused["status"], refused["reason"]) == ("False", "CredentialsNotFound")
        assert refused["message"].startswith("credentials secret 'aws-creds' in namespace team-b cannot be read by "
                                             "the operator: ")
