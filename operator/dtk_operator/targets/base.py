"""The one small interface every target kind implements (local sandboxes now, EC2 next)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class TargetError(Exception):
    """A node operation failed for good (bad AMI, no capacity...): the row fails with this text."""


@dataclass(frozen=True)
class NodeRequest:
    namespace: str
    instance: str
    name: str
    group: str = ""
    binding: Mapping[str, str] = field(default_factory=dict)
    token: str = ""


@dataclass(frozen=True)
class NodeFacts:
    """What `ServiceInstance.status.nodes` holds and `{{node.*}}` reads."""

    name: str
    group: str = ""
    instance_id: str = ""
    state: str = "running"
    private_ip: str = ""
    public_ip: str = ""
    dns_name: str = ""
    instance_type: str = ""
    image: str = ""

    def variables(self) -> dict[str, str]:
        return {"name": self.name, "instanceId": self.instance_id, "privateIp": self.private_ip,
                "publicIp": self.public_ip, "dnsName": self.dns_name}

    def to_status(self) -> dict[str, str]:
        return {"name": self.name, "group": self.group, "instanceId": self.instance_id, "state": self.state,
                "privateIp": self.private_ip, "publicIp": self.public_ip, "dnsName": self.dns_name,
                "instanceType": self.instance_type, "image": self.image}

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> NodeFacts:
        def text(key: str) -> str:
            return str(raw.get(key) or "")

        return cls(name=text("name"), group=text("group"), instance_id=text("instanceId"),
                   state=text("state") or "running", private_ip=text("privateIp"), public_ip=text("publicIp"),
                   dns_name=text("dnsName"), instance_type=text("instanceType"), image=text("image"))


@dataclass(frozen=True)
class CommandRequest:
    run: str
    namespace: str
    instance: str
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class CommandOutcome:
    return_code: int | None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    timed_out: bool = False


class Target(Protocol):
    async def create_node(self, request: NodeRequest) -> NodeFacts: ...

    async def run(self, node: NodeFacts, command: CommandRequest) -> CommandOutcome:
        """Runs one command; cancelling the awaiting task kills it."""
        ...

    async def release(self, namespace: str, instance: str, nodes: Sequence[NodeFacts]) -> None:
        """Terminates the nodes and returns once they are confirmed gone."""
        ...
