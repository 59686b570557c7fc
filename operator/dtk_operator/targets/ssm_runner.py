"""Steps of an EC2 node through SSM Run Command (`AWS-RunShellScript`)."""

from __future__ import annotations

from typing import Any

from dtk_operator.aws.ssm import SsmCommands, SsmError
from dtk_operator.targets.base import CommandOutcome, CommandRequest, NodeFacts, TargetError
from dtk_operator.targets.ec2 import CommandRunner


def ssm_runner(ssm_client: Any) -> CommandRunner:
    commands = SsmCommands(ssm_client)

    async def run(node: NodeFacts, command: CommandRequest) -> CommandOutcome:
        if not node.instance_id:
            raise TargetError(f"node {node.name} has no instance to run commands on")
        try:
            outcome = await commands.run(node.instance_id, command.run, env=command.env,
                                         timeout_seconds=command.timeout_seconds)
        except SsmError as error:
            raise TargetError(str(error)) from error
        return CommandOutcome(return_code=outcome.return_code, stdout=outcome.stdout, stderr=outcome.stderr,
                              truncated=outcome.truncated, timed_out=outcome.timed_out)

    return run
