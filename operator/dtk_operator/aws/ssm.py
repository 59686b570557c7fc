"""Run one shell script on one EC2 instance through SSM Run Command (`AWS-RunShellScript`).

SSM passes no environment, reports only when polled, and is eventually consistent: right after
SendCommand the invocation may be unknown. Every wait here is bounded by a local deadline, and a
command we stop waiting for is cancelled rather than left running unobserved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from dtk_operator.aws.errors import Observe
from dtk_operator.aws.ssm_calls import RetryingCalls, SsmError
from dtk_operator.aws.ssm_outcome import PENDING, TAIL_BYTES, SsmOutcome, deadline_outcome, from_invocation

__all__ = ["SsmCommands", "SsmError", "SsmOutcome", "shell_commands"]

logger = logging.getLogger(__name__)

DOCUMENT = "AWS-RunShellScript"
# SendCommand TimeoutSeconds: a node that has not picked the command up by then never runs it
# (SSM accepts 30 s and up). Two minutes covers an agent reconnecting after a network blip.
DELIVERY_TIMEOUT_SECONDS = 120
# AWS-RunShellScript's own executionTimeout default, which SSM applies when a step sets none.
DEFAULT_EXECUTION_SECONDS = 3600
# SSM's largest executionTimeout (48 h); larger step timeouts are clamped to it.
MAX_EXECUTION_SECONDS = 172_800
# Beyond delivery + execution: time for SSM to report TimedOut itself before we give up on it.
DEADLINE_MARGIN_SECONDS = 60.0
# A best-effort CancelCommand must not hold up a task that is already being cancelled.
CANCEL_BUDGET_SECONDS = 10.0
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def shell_commands(script: str, env: Mapping[str, str]) -> list[str]:
    """The `commands` parameter: the environment exported first (SSM passes none), then the script."""
    bad = [name for name in env if not _ENV_NAME.match(name)]
    if bad:
        raise ValueError(f"not a shell variable name: {', '.join(sorted(bad))}")
    return [*(f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())), script]


def _execution_timeout(seconds: float) -> int:
    return min(max(math.ceil(seconds), 1), MAX_EXECUTION_SECONDS)


def default_deadline(timeout_seconds: float | None) -> float:
    execution = DEFAULT_EXECUTION_SECONDS if timeout_seconds is None else _execution_timeout(timeout_seconds)
    return execution + DELIVERY_TIMEOUT_SECONDS + DEADLINE_MARGIN_SECONDS


class SsmCommands:
    def __init__(self, client: Any, *, poll_initial_seconds: float = 0.5, poll_max_seconds: float = 5.0,
                 not_found_grace_seconds: float = 30.0, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic, tail_bytes: int = TAIL_BYTES,
                 observe: Observe | None = None) -> None:
        self._call = RetryingCalls(client, sleep=sleep, observe=observe)
        self._poll_initial, self._poll_max = poll_initial_seconds, poll_max_seconds
        self._grace = not_found_grace_seconds
        self._sleep, self._clock = sleep, clock
        self._tail_bytes = tail_bytes

    async def run(self, instance_id: str, script: str, *, env: Mapping[str, str], timeout_seconds: float | None,
                  deadline_seconds: float | None = None) -> SsmOutcome:
        """Sends the script and waits for its final status; raises SsmError if SSM refuses or loses it."""
        commands = shell_commands(script, env)
        budget = default_deadline(timeout_seconds) if deadline_seconds is None else deadline_seconds
        deadline = self._clock() + budget
        command_id = await self._send(instance_id, commands, timeout_seconds)
        try:
            return await self._wait(command_id, instance_id, sent_at=self._clock(), deadline=deadline)
        except BaseException:
            # Cancellation or a permanent error ends our wait: the script must not run on unobserved.
            await self._cancel(command_id, instance_id)
            raise

    async def _send(self, instance_id: str, commands: list[str], timeout_seconds: float | None) -> str:
        parameters = {"commands": commands}
        if timeout_seconds is not None:  # SSM enforces the step timeout on the node itself
            parameters["executionTimeout"] = [str(_execution_timeout(timeout_seconds))]
        sending = asyncio.ensure_future(self._call(
            "send_command", DocumentName=DOCUMENT, InstanceIds=[instance_id], Parameters=parameters,
            TimeoutSeconds=DELIVERY_TIMEOUT_SECONDS))
        try:
            response = await asyncio.shield(sending)
        except asyncio.CancelledError:
            # The request's thread cannot be stopped: if it does send the command, cancel that command.
            with contextlib.suppress(Exception):
                sent = await asyncio.wait_for(sending, CANCEL_BUDGET_SECONDS)
                await self._cancel(str(sent["Command"]["CommandId"]), instance_id)
            raise
        return str(response["Command"]["CommandId"])

    async def _wait(self, command_id: str, instance_id: str, *, sent_at: float, deadline: float) -> SsmOutcome:
        """Polls with backoff; ends on a final status, at the deadline, or when the invocation never appears."""
        delay, last = self._poll_initial, "not visible yet"
        while True:
            await self._sleep(max(0.0, min(delay, deadline - self._clock())))
            invocation = await self._invocation(command_id, instance_id)
            if invocation is not None:
                last = str(invocation.get("Status"))
                if last not in PENDING:
                    return from_invocation(invocation, tail_bytes=self._tail_bytes)
            now = self._clock()
            if now >= deadline:
                await self._cancel(command_id, instance_id)
                return deadline_outcome(waited_seconds=round(now - sent_at, 1), last_status=last)
            if invocation is None and now - sent_at >= self._grace:
                raise SsmError("InvocationDoesNotExist", f"SSM shows no invocation of command {command_id} on "
                               f"{instance_id} {self._grace:g}s after SendCommand", temporary=False)
            delay = min(delay * 2, self._poll_max)

    async def _invocation(self, command_id: str, instance_id: str) -> dict[str, Any] | None:
        """The invocation record, or None while SSM does not show it yet (eventual consistency)."""
        try:
            return await self._call("get_command_invocation", CommandId=command_id, InstanceId=instance_id)
        except SsmError as error:
            if error.code != "InvocationDoesNotExist":
                raise
            return None

    async def _cancel(self, command_id: str, instance_id: str) -> None:
        """Best effort and bounded: the caller is leaving anyway, and SSM's own timeout still applies."""
        try:
            await asyncio.wait_for(
                self._call("cancel_command", CommandId=command_id, InstanceIds=[instance_id]), CANCEL_BUDGET_SECONDS)
        except Exception as error:
            logger.warning("CancelCommand %s on %s failed: %s", command_id, instance_id, error)
