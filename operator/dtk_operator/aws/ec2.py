"""The EC2 calls the operator makes, each through errors.call (one retry policy, reported)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dtk_api import resources as r
from dtk_operator.aws.errors import Observe, Report, RetryPolicy, call

GONE_STATES = frozenset({"shutting-down", "terminated"})
# EC2 is eventually consistent: an instance launched a moment ago may not be found yet by a call
# naming it (AWS's advice: retry with backoff). Only for calls right after RunInstances.
NOT_YET_VISIBLE = frozenset({"InvalidInstanceID.NotFound"})


@dataclass(frozen=True)
class LaunchSpec:
    token: str
    image: str
    instance_type: str
    tags: Mapping[str, str]
    subnet_id: str = ""
    security_group_ids: Sequence[str] = ()
    key_name: str = ""
    iam_instance_profile: str = ""
    count: int = 1  # MinCount = MaxCount: EC2 launches all of them or none


@dataclass(frozen=True)
class Instance:
    instance_id: str
    state: str
    tags: Mapping[str, str] = field(default_factory=dict)
    private_ip: str = ""
    public_ip: str = ""
    dns_name: str = ""
    instance_type: str = ""
    image: str = ""
    launch_index: int = 0  # its place in the RunInstances call that launched it (AmiLaunchIndex)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Instance:
        return cls(
            instance_id=str(raw["InstanceId"]), state=str(raw.get("State", {}).get("Name", "")),
            tags={t["Key"]: t["Value"] for t in raw.get("Tags", [])},
            private_ip=str(raw.get("PrivateIpAddress") or ""), public_ip=str(raw.get("PublicIpAddress") or ""),
            dns_name=str(raw.get("PublicDnsName") or raw.get("PrivateDnsName") or ""),
            instance_type=str(raw.get("InstanceType") or ""), image=str(raw.get("ImageId") or ""),
            launch_index=int(raw.get("AmiLaunchIndex") or 0),
        )


def _launch_arguments(spec: LaunchSpec) -> dict[str, Any]:
    tags = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
    args: dict[str, Any] = {
        "ImageId": spec.image, "InstanceType": spec.instance_type, "MinCount": spec.count, "MaxCount": spec.count,
        "ClientToken": spec.token,
        "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}],
    }
    if spec.subnet_id:
        args["SubnetId"] = spec.subnet_id
    if spec.security_group_ids:
        args["SecurityGroupIds"] = list(spec.security_group_ids)
    if spec.key_name:
        args["KeyName"] = spec.key_name
    if spec.iam_instance_profile:
        key = "Arn" if spec.iam_instance_profile.startswith("arn:") else "Name"
        args["IamInstanceProfile"] = {key: spec.iam_instance_profile}
    return args


class Ec2Api:
    def __init__(self, client: Any, *, policy: RetryPolicy | None = None, observe: Observe | None = None) -> None:
        self._client, self._policy, self._observe = client, policy or RetryPolicy(), observe

    async def _call(self, operation: str, fn: Any, report: Report | None = None, *,
                    also_temporary: frozenset[str] = frozenset(), settled: Any = None, **kwargs: Any) -> Any:
        return await call(operation, fn, policy=self._policy, observe=self._observe, report=report,
                          also_temporary=also_temporary, settled=settled, **kwargs)

    async def run_instances(self, spec: LaunchSpec, report: Report | None = None) -> list[Instance]:
        """A retry first looks for instances tagged with the launch's token: a failed attempt may
        have launched them (a 5xx after the work, a lost answer), and an endpoint that does not
        honour ClientToken (moto) would launch them a second time."""
        async def launched_already() -> dict[str, Any] | None:
            found = await self._described([{"Name": f"tag:{r.TAG_TOKEN}", "Values": [spec.token]}], report)
            return {"Instances": found} if found else None

        found = await self._call("RunInstances", self._client.run_instances, report, settled=launched_already,
                                 **_launch_arguments(spec))
        return [Instance.from_api(i) for i in found["Instances"]]

    async def tag(self, instance_id: str, tags: Mapping[str, str], report: Report | None = None) -> None:
        await self._call("CreateTags", self._client.create_tags, report, also_temporary=NOT_YET_VISIBLE,
                         Resources=[instance_id],
                         Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    async def instances_of(self, namespace: str, instance: str, report: Report | None = None) -> list[Instance]:
        """Every instance of one ServiceInstance, in one DescribeInstances (plus its pages)."""
        filters = [{"Name": f"tag:{r.TAG_INSTANCE}", "Values": [instance]},
                   {"Name": f"tag:{r.TAG_NAMESPACE}", "Values": [namespace]}]
        return [Instance.from_api(i) for i in await self._described(filters, report)]

    async def _described(self, filters: list[dict[str, Any]], report: Report | None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = ""
        while True:
            paging: dict[str, Any] = {"NextToken": token} if token else {}
            page = await self._call("DescribeInstances", self._client.describe_instances, report, Filters=filters,
                                    **paging)
            found += [i for res in page.get("Reservations", []) for i in res.get("Instances", [])]
            token = str(page.get("NextToken") or "")
            if not token:
                return found

    async def terminate(self, ids: Sequence[str], report: Report | None = None) -> None:
        if ids:
            await self._call("TerminateInstances", self._client.terminate_instances, report, InstanceIds=list(ids))

    async def stop(self, ids: Sequence[str], report: Report | None = None) -> None:
        if ids:
            await self._call("StopInstances", self._client.stop_instances, report, InstanceIds=list(ids))

    async def start(self, ids: Sequence[str], report: Report | None = None) -> None:
        if ids:
            await self._call("StartInstances", self._client.start_instances, report, InstanceIds=list(ids))
