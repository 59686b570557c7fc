"""What the EC2 emulator holds, read directly (not through the counting proxy)."""

from __future__ import annotations

from typing import Any

import boto3

from dtk_api import resources as r

LIVE_STATES = ("pending", "running", "stopping", "stopped")


def ec2_client(url: str) -> Any:
    return boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def instances(url: str, instance: str, states: tuple[str, ...] = LIVE_STATES) -> list[dict[str, Any]]:
    """The machines tagged for one ServiceInstance, in the given states."""
    found = ec2_client(url).describe_instances(Filters=[
        {"Name": f"tag:{r.TAG_INSTANCE}", "Values": [instance]},
        {"Name": "instance-state-name", "Values": list(states)}])
    return [i for res in found["Reservations"] for i in res["Instances"]]


def tags_of(machine: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in machine.get("Tags", [])}
