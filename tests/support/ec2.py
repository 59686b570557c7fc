"""EC2 test helpers: a small cluster on the ec2 target, and what moto holds (read directly, not
through the counting proxy)."""

from __future__ import annotations

import base64
from typing import Any

import boto3
from kubernetes import client as k8s

from dtk_api import resources as r
from support.aws_proxy import AwsProxy
from support.cluster import Kube
from support.manifests import assembly, component, ec2_instance
from support.moto_server import KNOWN_AMI
from support.targets import Targets, target_body

LIVE_STATES = ("pending", "running", "stopping", "stopped")


def ec2_client(url: str) -> Any:
    return boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def instances(url: str, instance: str, states: tuple[str, ...] = LIVE_STATES) -> list[dict[str, Any]]:
    """The machines tagged for one ServiceInstance, in the given states (every page: moto pages
    by reservation, and a node launched alone is a reservation of its own)."""
    pages = ec2_client(url).get_paginator("describe_instances").paginate(Filters=[
        {"Name": f"tag:{r.TAG_INSTANCE}", "Values": [instance]},
        {"Name": "instance-state-name", "Values": list(states)}])
    return [i for page in pages for res in page["Reservations"] for i in res["Instances"]]


def tags_of(machine: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in machine.get("Tags", [])}


BINDING = {"image": KNOWN_AMI, "instanceType": "t3.micro"}


def cluster(name: str = "hdfs", slaves: int = 2) -> dict[str, Any]:
    comps = [component("base", "echo base on {{node.name}} at {{node.privateIp}}"),
             component("worker", "echo 'master is {{nodes.master.privateIp}}'")]
    body = assembly(name, components=comps, nodes={"master": ["base"]},
                    groups={"slaves": (slaves, ["base", "worker"])},
                    stages=[{"name": "base", "components": ["base"]}, {"name": "workers", "components": ["worker"]}])
    for node in (*body["spec"]["nodes"], *body["spec"]["nodeGroups"]):
        node["binding"] = dict(BINDING)
    return body


def secret(kube: Kube, values: dict[str, str], name: str = "aws-creds") -> None:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    kube.core.create_namespaced_secret(kube.namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=name), data=data))


def ec2_target(kube: Kube, endpoint: str, *, secret_name: str = "aws-creds", transport: str = "local",
               role: str = "") -> str:
    """An ec2 Target on moto at `endpoint` for this test's namespace alone, its credentials in the
    test namespace's Secret `secret_name` (and `role` assumed with them); returns its name."""
    body = target_body(f"moto-{transport}-{secret_name}", endpoint=endpoint, transport=transport,
                       secret={"name": secret_name, "namespace": kube.namespace}, allowed={"list": [kube.namespace]})
    if role:
        body["spec"]["ec2"]["roleArn"] = role
    return Targets(kube).create(body)


def deploy(kube: Kube, proxy: AwsProxy, name: str = "c1", asm: dict[str, Any] | None = None, *,
           transport: str = "local", **spec: Any) -> str:
    secret(kube, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    body = asm or cluster()
    kube.create(r.ASSEMBLY_PLURAL, body)
    target = ec2_target(kube, proxy.url, transport=transport)
    kube.create(r.INSTANCE_PLURAL, ec2_instance(name, body["metadata"]["name"], target=target, **spec))
    return kube.first_task(name)
