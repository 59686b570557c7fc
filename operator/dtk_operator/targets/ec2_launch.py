"""Batched EC2 launches, exactly once through a crash at any point (SPEC sections 7 and 11).

The engine records every member of a batch (one token, each member its launch index) before
anything is launched. Here the members' concurrent create_node calls share one settlement per
token: a fresh DescribeInstances, then, if no instance of the batch was ever launched, ONE
RunInstances of MinCount = MaxCount = len(batch) carrying the token as tag and ClientToken,
then one CreateTags per instance naming its node, before any member goes on.

Which instance is whose, in the order a restarted operator trusts them:
- the `dtk.io/node` tag, once written (CreateTags, or at launch for a batch of one);
- else the batch token tag plus AmiLaunchIndex: EC2 numbers the instances of one RunInstances
  0..count-1, and the engine recorded which member has which index before the launch. So a
  crash between RunInstances and CreateTags leaves instances a restart can still name.
A batch is launched only when no instance, in any state, carries its token (not looked up for
a token this operator life has just made and never used: nothing can carry it): EC2 launches a
MinCount = MaxCount batch whole or not at all, so one instance seen means the batch was
launched. A member whose instance has since gone (terminated by hand, or capacity took it back)
is relaunched alone under its own derived token `<token>-<index>`, tagged with its node at
launch, so that relaunch is itself found again after a crash instead of repeated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from dtk_api import resources as r
from dtk_operator.aws.ec2 import GONE_STATES, Ec2Api, Instance, LaunchSpec
from dtk_operator.targets.base import NodeRequest
from dtk_operator.targets.instance_watch import InstanceWatch

# Pauses before reading a partly listed batch again (31 s in all): EC2's eventual consistency
# usually settles within seconds.
UNLISTED_REREAD_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0)
# How a launch is asked for: (request, token, the node names launched in launch-index order).
SpecFor = Callable[[NodeRequest, str, Sequence[str]], LaunchSpec]
Owned = dict[str, Instance]


def _of_batch(tag: str, token: str) -> bool:
    return tag == token or tag.startswith(token + "-")


def owned_by(seen: Iterable[Instance], token: str, batch: Sequence[str], *, gone_too: bool = False) -> Owned:
    """The live instances of a batch (`gone_too`: and the gone ones), by member name (node tag
    first, then launch index)."""
    owned: Owned = {}
    for found in sorted(seen, key=lambda i: r.TAG_NODE not in i.tags):  # a node tag outranks an index
        tag = found.tags.get(r.TAG_TOKEN, "")
        if (found.state in GONE_STATES and not gone_too) or not _of_batch(tag, token):
            continue
        by_index = batch[found.launch_index] if tag == token and found.launch_index < len(batch) else ""
        name = found.tags.get(r.TAG_NODE) or by_index
        if name in batch:
            owned.setdefault(name, found)
    return owned


def node_tags(request: NodeRequest, node: str) -> dict[str, str]:
    return {r.TAG_NODE: node, "Name": f"{request.instance}/{node}"}


class BatchLauncher:
    def __init__(self, api: Ec2Api, spec_for: SpecFor) -> None:
        self._api, self._spec_for = api, spec_for
        self._settling: dict[tuple[str, str, str], asyncio.Future[Owned]] = {}

    async def instance_for(self, request: NodeRequest, watch: InstanceWatch) -> Instance:
        """The node's instance: adopted, launched with its batch, or relaunched alone."""
        batch = request.batch if request.name in request.batch else (request.name,)
        key = (request.namespace, request.instance, request.token)
        settling = self._settling.get(key)
        if settling is None:  # the first member to arrive settles the batch for all of them
            settling = asyncio.ensure_future(self._settle(request, batch, watch, watch.mark()))
            self._settling[key] = settling
            settling.add_done_callback(lambda done: self._forget(key, done))
        owned = await asyncio.shield(settling)
        if request.name in owned:
            return owned[request.name]
        return await self._relaunch(request, batch)

    def _forget(self, key: tuple[str, str, str], done: asyncio.Future[Owned]) -> None:
        # Dropped once settled: a later call (a new Task) reads EC2 afresh and finds the tags.
        if self._settling.get(key) is done:
            del self._settling[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter has seen it; no "never retrieved" warning

    async def _settle(self, request: NodeRequest, batch: Sequence[str], watch: InstanceWatch, since: int) -> Owned:
        seen = [] if request.new_token else await self._whole_batch(request.token, batch, watch, since)
        owned = owned_by(seen, request.token, batch)
        if not any(_of_batch(i.tags.get(r.TAG_TOKEN, ""), request.token) for i in seen):
            spec = self._spec_for(request, request.token, batch)
            launched = await self._api.run_instances(spec, request.report)
            # The reply may omit the tags asked for at launch: they are known, so they are added.
            owned = owned_by((replace(i, tags={**spec.tags, **i.tags}) for i in launched), request.token, batch)
        await self._name(request, owned)
        return owned

    async def _whole_batch(self, token: str, batch: Sequence[str], watch: InstanceWatch, since: int) -> list[Instance]:
        """What EC2 shows of a batch, read again while it shows part of it. DescribeInstances is
        eventually consistent: moments after a launch it may list some instances of a
        reservation and not yet the others. A member relaunched because its instance was not
        listed yet would run twice; a member whose instance is listed gone, or stays unlisted
        through every re-read (terminated over an hour ago), is relaunched."""
        seen = await watch.fresh(since)
        for pause in UNLISTED_REREAD_SECONDS:
            listed = owned_by(seen, token, batch, gone_too=True)
            if not listed or len(listed) == len(batch):  # never launched, or all there
                break
            await asyncio.sleep(pause)
            seen = await watch.fresh(watch.mark())
        return seen

    async def _name(self, request: NodeRequest, owned: Mapping[str, Instance]) -> None:
        """Node tags written before any member goes on: from then on no index is needed."""
        untagged = [(name, i) for name, i in owned.items() if i.tags.get(r.TAG_NODE) != name]
        await asyncio.gather(*(self._api.tag(i.instance_id, node_tags(request, name), request.report)
                               for name, i in untagged))

    async def _relaunch(self, request: NodeRequest, batch: Sequence[str]) -> Instance:
        """The batch was launched but this member's instance is gone: it alone gets a new one."""
        token = f"{request.token}-{batch.index(request.name)}"
        launched = await self._api.run_instances(self._spec_for(request, token, (request.name,)), request.report)
        return launched[0]
