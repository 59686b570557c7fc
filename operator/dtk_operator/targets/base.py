"""The one small interface every target kind implements (local sandboxes now, EC2 next)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Report = Callable[[str], None]  # how a target tells the Task's message log about retries


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
    # The node's launch batch: every member sharing `token`, in launch-index order (empty: the
    # node alone). A target that launches in batches launches them together; others ignore it.
    batch: tuple[str, ...] = ()
    # True when `token` was made by this operator life a moment ago and never used: no machine
    # can carry it yet, so the look-up before launching is skipped (it is what resumes need).
    new_token: bool = False
    report: Report | None = field(default=None, compare=False)


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
    token: str = ""  # EC2 idempotency: written to status before RunInstances, tagged on the instance
    # The node's place in its launch batch (its EC2 AmiLaunchIndex): written with the token, so
    # that a restarted operator knows which untagged instance of the batch is this node's.
    launch_index: int | None = None

    def variables(self) -> dict[str, str]:
        return {"name": self.name, "instanceId": self.instance_id, "privateIp": self.private_ip,
                "publicIp": self.public_ip, "dnsName": self.dns_name}

    def to_status(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "name": self.name, "group": self.group, "instanceId": self.instance_id, "state": self.state,
            "privateIp": self.private_ip, "publicIp": self.public_ip, "dnsName": self.dns_name,
            "instanceType": self.instance_type, "image": self.image, "token": self.token}
        if self.launch_index is not None:
            raw["launchIndex"] = self.launch_index
        return raw

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> NodeFacts:
        def text(key: str) -> str:
            return str(raw.get(key) or "")

        return cls(name=text("name"), group=text("group"), instance_id=text("instanceId"),
                   state=text("state") or "running", private_ip=text("privateIp"), public_ip=text("publicIp"),
                   dns_name=text("dnsName"), instance_type=text("instanceType"), image=text("image"),
                   token=text("token"), launch_index=_index(raw.get("launchIndex")))


def _index(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(frozen=True)
class CommandRequest:
    run: str
    namespace: str
    instance: str
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = None
    report: Report | None = field(default=None, compare=False)
    # Called when the command really begins: after a target's wait for a free slot (the local
    # target's bound), so its row reads `executing` from then on, not while it queues.
    started: Callable[[], None] | None = field(default=None, compare=False)

    def begin(self) -> None:
        if self.started is not None:
            self.started()


@dataclass(frozen=True)
class CommandOutcome:
    return_code: int | None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    timed_out: bool = False


class Target(Protocol):
    async def create_node(self, request: NodeRequest) -> NodeFacts:
        """Creates the node, or adopts the one an earlier attempt created with the same token."""
        ...

    async def start_node(self, request: NodeRequest, node: NodeFacts) -> NodeFacts:
        """Powers a stopped node on; returns its facts once it runs (addresses may change)."""
        ...

    async def stop_nodes(self, namespace: str, instance: str, nodes: Sequence[NodeFacts]) -> list[NodeFacts]:
        """Powers nodes off; returns them as `stopped` once they are."""
        ...

    async def run(self, node: NodeFacts, command: CommandRequest) -> CommandOutcome:
        """Runs one command; cancelling the awaiting task kills it."""
        ...

    async def release(self, namespace: str, instance: str, nodes: Sequence[NodeFacts], *,
                      everything: bool = False) -> None:
        """Terminates the nodes (with `everything`, every machine the instance has, recorded or
        not) and returns once they are confirmed gone."""
        ...
