"""The `ec2` target: nodes are EC2 instances, created exactly once, launched in batches.

Exactly once: the engine writes each node's batch token (and its launch index) to the
instance's status before calling create_node; the machines are looked up by that token's tag
before any RunInstances, so a retry after a crash adopts what the first attempt launched
(moto, like some EC2-compatible endpoints, does not honour ClientToken, so the tag is the
guarantee). How a batch is launched and named: ec2_launch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from dtk_api import resources as r
from dtk_operator.aws.ec2 import Ec2Api, Instance, LaunchSpec
from dtk_operator.aws.errors import AwsError
from dtk_operator.targets.base import CommandOutcome, CommandRequest, NodeFacts, NodeRequest, TargetError
from dtk_operator.targets.ec2_launch import BatchLauncher, node_tags
from dtk_operator.targets.instance_watch import InstanceWatch

CommandRunner = Callable[[NodeFacts, CommandRequest], Awaitable[CommandOutcome]]


@dataclass(frozen=True)
class Ec2Placement:
    """Where and how instances are launched: the target's `ec2` block, minus credentials."""

    subnet_id: str = ""
    security_group_ids: tuple[str, ...] = ()
    key_name: str = ""
    iam_instance_profile: str = ""
    tags: tuple[tuple[str, str], ...] = ()  # pairs, not a dict: a placement is a cache key
    # Seconds a node may take to reach `running` (or `stopped`, `terminated`); DTK allowed 300.
    state_timeout_seconds: float = 600.0


def _facts(node: str, group: str, found: Instance, token: str, launch_index: int | None = None) -> NodeFacts:
    return NodeFacts(name=node, group=group, instance_id=found.instance_id, state=found.state,
                     private_ip=found.private_ip, public_ip=found.public_ip, dns_name=found.dns_name,
                     instance_type=found.instance_type, image=found.image, token=token,
                     launch_index=launch_index)


def _unnamed_at(found: Instance) -> tuple[str, int] | None:
    """Where an instance sits in its launch batch, while it has no node tag yet."""
    return None if r.TAG_NODE in found.tags else (found.tags.get(r.TAG_TOKEN, ""), found.launch_index)


class Ec2Target:
    def __init__(self, api: Ec2Api, placement: Ec2Placement, runner: CommandRunner) -> None:
        self._api, self._placement, self._runner = api, placement, runner
        self._watches: dict[tuple[str, str], InstanceWatch] = {}
        self._launcher = BatchLauncher(api, self._launch_spec)

    def _watch(self, namespace: str, instance: str) -> InstanceWatch:
        return self._watches.setdefault((namespace, instance), InstanceWatch(self._api, namespace, instance))

    def _launch_spec(self, request: NodeRequest, token: str, nodes: Sequence[str]) -> LaunchSpec:
        """One node is named at launch; a batch is named by CreateTags once its ids are known."""
        image, size = request.binding.get("image", ""), request.binding.get("instanceType", "")
        if not image or not size:
            raise TargetError(f"node {request.name} needs binding.image and binding.instanceType on the ec2 target")
        named = node_tags(request, nodes[0]) if len(nodes) == 1 else {"Name": f"{request.instance}/{request.group}"}
        tags = {**dict(self._placement.tags), **named, r.TAG_INSTANCE: request.instance,
                r.TAG_NAMESPACE: request.namespace, r.TAG_TOKEN: token}
        return LaunchSpec(token=token, image=image, instance_type=size, tags=tags, count=len(nodes),
                          subnet_id=self._placement.subnet_id, security_group_ids=self._placement.security_group_ids,
                          key_name=self._placement.key_name, iam_instance_profile=self._placement.iam_instance_profile)

    async def create_node(self, request: NodeRequest) -> NodeFacts:
        if not request.token:
            raise TargetError(f"node {request.name}: no client token was recorded before launch")
        watch = self._watch(request.namespace, request.instance)
        watch.report = request.report
        try:
            launched = await self._launcher.instance_for(request, watch)
            running = await watch.wait_for(launched.instance_id, "running",
                                           timeout=self._placement.state_timeout_seconds)
        except AwsError as error:
            raise TargetError(str(error)) from error
        return _facts(request.name, request.group, running, request.token)

    async def start_node(self, request: NodeRequest, node: NodeFacts) -> NodeFacts:
        watch = self._watch(request.namespace, request.instance)
        try:
            await self._api.start([node.instance_id], request.report)
            running = await watch.wait_for(node.instance_id, "running", timeout=self._placement.state_timeout_seconds)
        except AwsError as error:
            raise TargetError(str(error)) from error
        return _facts(node.name, node.group, running, node.token, node.launch_index)

    async def stop_nodes(self, namespace: str, instance: str, nodes: Sequence[NodeFacts]) -> list[NodeFacts]:
        watch = self._watch(namespace, instance)
        await self._api.stop([n.instance_id for n in nodes if n.instance_id])
        stopped = []
        for node in nodes:
            found = await watch.wait_for(node.instance_id, "stopped", timeout=self._placement.state_timeout_seconds)
            stopped.append(_facts(node.name, node.group, found, node.token, node.launch_index))
        return stopped

    async def release(self, namespace: str, instance: str, nodes: Sequence[NodeFacts], *,
                      everything: bool = False) -> None:
        """Terminates by tag, not only by recorded id: a machine launched just before a crash,
        never recorded, must not outlive its instance; nor one of a batch not yet named by its
        node tag (found by its batch token and launch index)."""
        watch = self._watch(namespace, instance)
        names = {n.name for n in nodes}
        places = {(n.token, n.launch_index) for n in nodes if n.token and n.launch_index is not None}
        doomed = [i.instance_id for i in await watch.snapshot()
                  if i.state != "terminated" and (everything or i.tags.get(r.TAG_NODE) in names
                                                  or _unnamed_at(i) in places)]
        await self._api.terminate(doomed)
        for instance_id in doomed:
            await watch.wait_for(instance_id, "terminated", timeout=self._placement.state_timeout_seconds)

    async def run(self, node: NodeFacts, command: CommandRequest) -> CommandOutcome:
        return await self._runner(node, command)
