"""AWS refusing: bad AMI, bad instance type (moto's validation on), a missing credentials Secret;
and the other ways in: AssumeRole credentials, commands through SSM Run Command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dtk_api import resources as r
from support.aws_proxy import AwsProxy, aws_proxy
from support.cluster import Kube
from support.ec2 import cluster, deploy, ec2_target, instances, secret
from support.manifests import condition, ec2_instance, steps_of
from support.moto_server import MotoServer
from support.operator_process import OperatorProcess


@pytest.fixture(scope="module")
def strict_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto-strict") / "moto.log", validate=True)
    yield server
    server.stop()


@pytest.fixture
def strict_proxy(strict_moto: MotoServer) -> Iterator[AwsProxy]:
    strict_moto.reset()
    with aws_proxy(strict_moto.url) as proxy:
        yield proxy


@pytest.mark.parametrize(("field", "value", "code"), [
    ("image", "ami-00000000", "InvalidAMIID.NotFound"),
    ("instanceType", "m9.nonsense", "InvalidInstanceType"),
])
def test_a_bad_binding_fails_the_row_with_aws_code_and_leaks_nothing(
        field: str, value: str, code: str, kube: Kube, operator: OperatorProcess, strict_proxy: AwsProxy,
        strict_moto: MotoServer) -> None:
    body = cluster()
    body["spec"]["nodes"][0]["binding"][field] = value  # the master's binding only
    done = kube.finished_task(deploy(kube, strict_proxy, asm=body))
    status = done["status"]
    assert status["state"] == "failed"
    master_row = next(s for s in status["steps"] if s["kind"] == "create_node" and s["node"] == "master")
    assert master_row["status"] == "failed" and code in master_row["errors"][0]["message"]
    assert status["failure"]["node"] == "master" and code in status["failure"]["message"]
    si = kube.condition_when(r.INSTANCE_PLURAL, "c1", "Stalled")
    assert condition(si, "Stalled")["reason"] == "TaskFailed" and code in condition(si, "Stalled")["message"]
    kube.delete(r.INSTANCE_PLURAL, "c1")  # what did get created is terminated with the instance
    kube.wait("the instance to be released", lambda: kube.get(r.INSTANCE_PLURAL, "c1") is None, timeout=60)
    assert instances(strict_moto.url, "c1") == []


def test_a_target_whose_credentials_secret_is_missing_stalls_its_instance_before_any_call(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy) -> None:
    kube.create(r.ASSEMBLY_PLURAL, cluster())
    target = ec2_target(kube, ec2_proxy.url, secret_name="nope")
    kube.create(r.INSTANCE_PLURAL, ec2_instance("c1", "hdfs", target=target))
    si = kube.condition_when(r.INSTANCE_PLURAL, "c1", "Stalled")
    assert condition(si, "Stalled")["reason"] == "TargetNotReady"
    assert condition(si, "Stalled")["message"] == (f"Target '{target}' is not ready: credentials secret 'nope' not "
                                                   f"found in namespace {kube.namespace}")
    assert kube.tasks_of("c1") == [] and sum(ec2_proxy.calls.values()) == 0  # no Task, no AWS call at all


def test_assume_role_credentials_are_used(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer) -> None:
    secret(kube, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    kube.create(r.ASSEMBLY_PLURAL, cluster())
    target = ec2_target(kube, ec2_proxy.url, role="arn:aws:iam::123456789012:role/dtk-deployer")
    kube.create(r.INSTANCE_PLURAL, ec2_instance("c1", "hdfs", target=target))
    done = kube.finished_task(kube.first_task("c1"))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    # once to check the Target (then sts:GetCallerIdentity as the role), once for the EC2 and SSM clients
    assert ec2_proxy.calls["AssumeRole"] == 2 and len(instances(moto.url, "c1")) == 3


def test_steps_go_through_ssm_run_command(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy, moto: MotoServer, tmp_path: Path) -> None:
    done = kube.finished_task(deploy(kube, ec2_proxy, transport="ssm"))
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    # moto records the command but runs nothing: every step answers Success with no output.
    row = steps_of(done)["2.1.1"]
    assert row["results"][0]["returnCode"] == 0 and row["results"][0]["stdout"] == ""
    # master: base; each of two slaves: base, worker
    assert ec2_proxy.calls["SendCommand"] == 5 and ec2_proxy.calls["GetCommandInvocation"] >= 5


def test_ssm_waits_for_a_new_instance_agent_to_register(
        kube: Kube, operator: OperatorProcess, ec2_proxy: AwsProxy) -> None:
    ec2_proxy.refuse = {"SendCommand": (400, "InvalidInstanceId", "Instances not in a valid state for account")}
    ec2_proxy.refuse_count = 2
    done = kube.finished_task(deploy(kube, ec2_proxy, transport="ssm"), timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert ec2_proxy.faults["SendCommand"] == 2
    assert any("agent registering" in m["text"] for m in done["status"]["messages"])
