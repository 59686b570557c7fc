"""Steps of an EC2 node through SSM Run Command (`AWS-RunShellScript`)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from dtk_operator.aws.errors import Observe
from dtk_operator.aws.ssm import SsmCommands, SsmError, SsmOutcome
from dtk_operator.targets.base import CommandOutcome, CommandRequest, NodeFacts, TargetError
from dtk_operator.targets.ec2 import CommandRunner

# A new instance's SSM agent registers a minute or two after boot; until then SendCommand says
# InvalidInstanceId. Seconds to keep trying, and the pauses between tries.
AGENT_REGISTRATION_GRACE_SECONDS = 300.0
_PAUSES = (1.0, 2.0, 4.0, 8.0, 15.0)


async def _send(commands: SsmCommands, node: NodeFacts, command: CommandRequest) -> SsmOutcome:
    deadline = time.monotonic() + AGENT_REGISTRATION_GRACE_SECONDS
    for attempt in itertools.count():
        try:
            return await commands.run(node.instance_id, command.run, env=command.env,
                                      timeout_seconds=command.timeout_seconds)
        except SsmError as error:
            if error.code != "InvalidInstanceId" or time.monotonic() > deadline:
                raise
            pause = _PAUSES[min(attempt, len(_PAUSES) - 1)]
            if command.report is not None:
                command.report(f"SSM does not know {node.instance_id} yet (agent registering); retry in {pause:g} s")
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


def ssm_runner(ssm_client: Any, observe: Observe | None = None) -> CommandRunner:
    commands = SsmCommands(ssm_client, observe=observe)

    async def run(node: NodeFacts, command: CommandRequest) -> CommandOutcome:
        if not node.instance_id:
            raise TargetError(f"node {node.name} has no EC2 instance to run commands on with the ssm transport")
        command.begin()  # SSM queues on the instance, not here
        try:
            outcome = await _send(commands, node, command)
        except (SsmError, ValueError) as error:
            raise TargetError(str(error)) from error
        return CommandOutcome(return_code=outcome.return_code, stdout=outcome.stdout, stderr=outcome.stderr,
                              truncated=outcome.truncated, timed_out=outcome.timed_out)

    return run
