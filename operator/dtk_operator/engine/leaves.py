"""Runs one leaf row: create a node, or run a node's component steps / actions in order."""

from __future__ import annotations

import asyncio
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from dtk_api.assembly import CommandSpec
from dtk_api.plan_stages import LeafWork, WorkUnit
from dtk_api.task_status import CommandResult, TaskStatus
from dtk_api.templating import TemplateError, env_name, render
from dtk_api.transitions import record_results
from dtk_operator.engine.batches import batches_of, plan_batches
from dtk_operator.engine.run_state import RunState
from dtk_operator.targets.base import (
    CommandOutcome,
    CommandRequest,
    NodeFacts,
    NodeRequest,
    Target,
    TargetError,
)

MESSAGE_TAIL = 500  # characters of output quoted in result messages and errors
GUARD_TIMEOUT_SECONDS = 60.0  # an if/unless guard is a quick check, never a long job
Lookup = Callable[[str], str | None]


@dataclass(frozen=True)
class LeafContext:
    """Where a leaf runs and how a created node is recorded."""

    namespace: str
    instance: str
    task: str
    target: Target
    bindings: Mapping[str, Mapping[str, str]]
    remember: Callable[[NodeFacts], Awaitable[None]]


def _lookup(run: RunState, node: str, variables: Mapping[str, str]) -> Lookup:
    def lookup(name: str) -> str | None:
        if name in variables:
            return variables[name]
        head, _, field = name.rpartition(".")
        owner = node if head == "node" else head.partition(".")[2] if head.startswith("nodes.") else ""
        facts = run.nodes.get(owner)
        return facts.variables().get(field) if facts else None

    return lookup


def _env(unit: WorkUnit, node: str, task: str, index: str) -> dict[str, str]:
    env = {env_name(k): v for k, v in unit.variables.items() if not k.startswith("component.")}
    # DTK_TASK and DTK_ROW also tell a restarted operator which processes a row it re-runs left.
    env.update(DTK_NODE=node, DTK_COMPONENT=unit.component, DTK_TASK=task, DTK_ROW=index)
    return env


def _failure_text(outcome: CommandOutcome, timeout: float | None) -> str:
    if outcome.timed_out:
        return f"Timeout ({timeout:g} sec) for this action has been exceeded"
    last = outcome.stderr.strip().splitlines()[-1:] or outcome.stdout.strip().splitlines()[-1:]
    detail = f": {last[0][-MESSAGE_TAIL:]}" if last else ""
    return f"Error in action; syscall status = {outcome.return_code}{detail}"


class LeafRunner:
    def __init__(self, run: RunState, ctx: LeafContext) -> None:
        self.run, self.ctx = run, ctx
        self._batches: dict[str, tuple[str, ...]] = {}
        self._minted: set[str] = set()  # tokens this run made: no earlier life can have used them
        self._begun: set[str] = set()  # rows marked `executing` by this run

    def _creates(self, work: LeafWork) -> bool:
        return work.kind == "create_node" or (work.kind == "power_on_node" and work.node not in self.run.nodes)

    async def prepare(self, works: Sequence[LeafWork]) -> None:
        """Before a stage's leaves run: the nodes it creates get their launch batches, all on
        record before any machine is asked for (engine.batches says why)."""
        wanted = [w.node for w in works if self._creates(w)]
        records = plan_batches(wanted, self.run.nodes, self._mint)
        await asyncio.gather(*(self._record(facts) for facts in records))  # gathered into one write
        self._batches = batches_of(self.run.nodes)

    async def __call__(self, index: str, work: LeafWork) -> None:
        """Never raises but for cancellation: every failure becomes the row's error. A row of
        commands starts when its first command does (it may wait for a slot on the target first)."""
        try:
            if work.kind in ("create_node", "power_on_node"):
                self._begin(index)
                await self._create(index, work)
            else:
                await self._units(index, work)
        except (TargetError, TemplateError) as error:
            self._begin(index)
            self.run.fail(index, node=work.node, message=str(error))
        except Exception as error:
            self._begin(index)
            self.run.fail(index, node=work.node, message=f"operator error: {error!r}", kind="server",
                          stacktrace=traceback.format_exc())

    def _begin(self, index: str) -> None:
        if index not in self._begun:
            self._begun.add(index)
            self.run.start(index)

    async def _create(self, index: str, work: LeafWork) -> None:
        """The token goes on record before the machine is asked for (by prepare, or here for a
        leaf it did not see): a retry after a crash finds it and adopts the machine instead of
        launching a second one. A recorded token is kept whatever the node's state: the node
        may have been recorded running just before a crash that lost this row's success."""
        group = work.node.rpartition(":")[0]
        known = self.run.nodes.get(work.node)
        if work.kind == "power_on_node" and known is not None:
            facts = await self.ctx.target.start_node(self._request(work, group, known.token), known)
        else:
            if known is None or not known.token:
                known = NodeFacts(name=work.node, group=group, state="creating", token=self._mint())
                await self._record(known)
            created = await self.ctx.target.create_node(self._request(work, group, known.token))
            facts = replace(created, token=known.token, launch_index=known.launch_index)
        await self._record(facts)
        self.run.succeed(index)

    def _request(self, work: LeafWork, group: str, token: str) -> NodeRequest:
        return NodeRequest(namespace=self.ctx.namespace, instance=self.ctx.instance, name=work.node, group=group,
                           binding=self.ctx.bindings.get(group or work.node, {}), token=token,
                           batch=self._batches.get(token, ()), new_token=token in self._minted,
                           report=self._report)

    def _mint(self) -> str:
        token = uuid.uuid4().hex
        self._minted.add(token)
        return token

    async def _record(self, facts: NodeFacts) -> None:
        self.run.nodes[facts.name] = facts
        await self.ctx.remember(facts)

    def _report(self, text: str) -> None:
        self.run.log("notification", text)  # retries against the cloud are worth seeing by default

    async def _command(
        self, index: str, facts: NodeFacts, text: str, env: Mapping[str, str], timeout: float | None
    ) -> CommandOutcome:
        request = CommandRequest(run=text, namespace=self.ctx.namespace, instance=self.ctx.instance, env=env,
                                 timeout_seconds=timeout, report=self._report, started=partial(self._begin, index))
        return await self.ctx.target.run(facts, request)

    async def _skipped(self, index: str, facts: NodeFacts, command: CommandSpec, lookup: Lookup,
                       env: Mapping[str, str]) -> str:
        """DTK's if/unless guards: the reason a command is skipped, or "" to run it."""
        for guard, runs_when_zero, label in ((command.if_, True, "if"), (command.unless, False, "unless")):
            if guard:
                outcome = await self._command(index, facts, render(guard, lookup), env, GUARD_TIMEOUT_SECONDS)
                if (outcome.return_code == 0) != runs_when_zero:
                    return f"{label} guard '{guard}'"
        return ""

    async def _units(self, index: str, work: LeafWork) -> None:
        facts = self.run.nodes.get(work.node) or NodeFacts(name=work.node)
        results: list[CommandResult] = []
        for unit in work.units:
            lookup, env = _lookup(self.run, work.node, unit.variables), _env(unit, work.node, self.ctx.task, index)
            for command in unit.commands:
                text = render(command.run, lookup)
                if reason := await self._skipped(index, facts, command, lookup, env):
                    self.run.log("debug", f"step {index} on {work.node}: skipped '{text}' ({reason})", write=False)
                    continue
                outcome = await self._command(index, facts, text, env, command.timeout_seconds)
                results.append(CommandResult(run=text, return_code=outcome.return_code, stdout=outcome.stdout,
                                             stderr=outcome.stderr, truncated=outcome.truncated))
                if "." in unit.label and outcome.stdout.strip():
                    self.run.log("result", f"{work.node} {unit.label}: {outcome.stdout.strip()[-MESSAGE_TAIL:]}",
                                 write=False)
                if outcome.timed_out or outcome.return_code != 0:
                    self.run.fail(index, node=work.node, results=tuple(results), return_code=outcome.return_code,
                                  stderr=outcome.stderr,
                                  message=f"{unit.label}: {_failure_text(outcome, command.timeout_seconds)}")
                    return
                done = tuple(results)
                self.run.apply(partial(_with_results, index=index, results=done), write=False)
        self._begin(index)  # a row whose every command was skipped, or that had none
        self.run.succeed(index, tuple(results))


def _with_results(status: TaskStatus, now: datetime, *, index: str, results: tuple[CommandResult, ...]) -> TaskStatus:
    return record_results(status, index, now, results)
