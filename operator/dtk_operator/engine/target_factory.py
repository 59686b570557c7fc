"""The target for a ServiceInstance's Target object: the shared local one, or an EC2 one per
distinct settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dtk_api import resources as r
from dtk_api.targets import choose, wanted_name
from dtk_operator.aws.ec2 import Ec2Api
from dtk_operator.aws.errors import Observe
from dtk_operator.aws.session import AwsSettings, ClientCache
from dtk_operator.kube.client import Forbidden, KubeClient, NotFound
from dtk_operator.targets.base import CommandOutcome, CommandRequest, NodeFacts, Target, TargetError
from dtk_operator.targets.ec2 import CommandRunner, Ec2Placement, Ec2Target
from dtk_operator.targets.local import LocalTarget

# Keys accepted in a credentials Secret: AWS's environment names, or the short camelCase ones.
_KEYS = {"access_key_id": ("AWS_ACCESS_KEY_ID", "accessKeyId"),
         "secret_access_key": ("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
         "session_token": ("AWS_SESSION_TOKEN", "sessionToken")}


def _pick(data: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((data[n] for n in names if data.get(n)), "")


def _placement(ec2: Mapping[str, Any]) -> Ec2Placement:
    return Ec2Placement(subnet_id=str(ec2.get("subnetId") or ""),
                        security_group_ids=tuple(str(g) for g in ec2.get("securityGroupIds") or ()),
                        key_name=str(ec2.get("keyName") or ""),
                        iam_instance_profile=str(ec2.get("iamInstanceProfile") or ""),
                        tags=tuple(sorted((str(k), str(v)) for k, v in (ec2.get("tags") or {}).items())))


class TargetFactory:
    def __init__(self, *, kube: KubeClient, local: LocalTarget, observe_aws: Observe | None = None,
                 operator_namespace: str = "dtk-system") -> None:
        self._kube, self.local, self._observe = kube, local, observe_aws
        # Where a Target's credentials Secret is when its credentialsSecretRef names no namespace.
        self.operator_namespace = operator_namespace
        self._clients = ClientCache()
        self._ec2: dict[tuple[str, Ec2Placement, str], Ec2Target] = {}

    async def for_instance(self, body: Mapping[str, Any]) -> Target:
        """The Target the instance runs on (status.target, or spec.targetRef before it is recorded).
        Whether its namespace is still allowed is not asked here: a running Task goes on, and a
        deletion always terminates the machines it made."""
        namespace = str(body["metadata"]["namespace"])
        name = wanted_name(body)
        if not name:
            fresh = await self._kube.get(r.INSTANCE_PLURAL, namespace, body["metadata"]["name"])
            name = wanted_name(fresh or {})
        found = await self._kube.get_cluster(r.TARGET_PLURAL, name) if name else await self._default(namespace)
        if found is None:
            raise TargetError(f"Target '{name}' not found")
        spec = found.get("spec") or {}
        if spec.get("provider") == "local":
            return self.local
        if spec.get("provider") == "ec2":
            return await self._ec2_target(spec.get("ec2") or {}, spec.get("credentialsSecretRef") or {})
        raise TargetError(f"target provider '{spec.get('provider')}' is not available")

    async def aws_settings(self, ec2: Mapping[str, Any], secret_ref: Mapping[str, Any], namespace: str) -> AwsSettings:
        """The AWS settings of `ec2` with the credentials of the Secret `secret_ref` names (in its
        own namespace, else `namespace`); no Secret: the operator's default credential chain."""
        found: dict[str, str] = {}
        ref, where = str(secret_ref.get("name") or ""), str(secret_ref.get("namespace") or namespace)
        if ref:
            try:
                data = await self._kube.secret_data(where, ref)
            except NotFound as error:
                raise TargetError(f"credentials secret '{ref}' not found in namespace {where}") from error
            except Forbidden as error:  # RBAC: a Secret outside the operator's namespace, by default
                raise TargetError(f"credentials secret '{ref}' in namespace {where} cannot be read by the operator: "
                                  f"{error}") from error
            found = {field: _pick(data, names) for field, names in _KEYS.items()}
        return AwsSettings(region=str(ec2.get("region") or ""), endpoint_url=str(ec2.get("endpointURL") or ""),
                           role_arn=str(ec2.get("roleArn") or ""), **found)

    async def _default(self, namespace: str) -> Mapping[str, Any]:
        """The namespace's default Target, for a Task that starts before its instance's reconcile
        has recorded one (a Task created by hand, or found at start-up): the one it will record."""
        choice = choose(await self._kube.list_cluster(r.TARGET_PLURAL), wanted="", namespace=namespace,
                        labels=await self._kube.namespace_labels(namespace))
        if choice.target is None:
            raise TargetError(choice.message)
        return choice.target

    async def _ec2_target(self, ec2: Mapping[str, Any], secret_ref: Mapping[str, Any]) -> Ec2Target:
        settings = await self.aws_settings(ec2, secret_ref, self.operator_namespace)
        transport = str(ec2.get("commandTransport") or "ssm")
        key = (settings.key(), _placement(ec2), transport)
        if key not in self._ec2:
            ec2_client, ssm_client = await self._clients.get(settings)
            runner = self._local_runner() if transport == "local" else _ssm_runner(ssm_client, self._observe)
            self._ec2[key] = Ec2Target(Ec2Api(ec2_client, observe=self._observe), key[1], runner)
        return self._ec2[key]

    def _local_runner(self) -> CommandRunner:
        """Development only: an EC2 node's steps run in a local sandbox named after its instance."""
        async def run(node: NodeFacts, command: CommandRequest) -> CommandOutcome:
            return await self.local.run(replace(node, name=node.instance_id or node.name), command)

        return run


def _ssm_runner(ssm_client: Any, observe: Observe | None) -> CommandRunner:
    from dtk_operator.targets.ssm_runner import ssm_runner

    return ssm_runner(ssm_client, observe)
