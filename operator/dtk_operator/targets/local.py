"""The `local` target: each node is a directory on the operator's host; steps are subprocesses.

It runs arbitrary commands where the operator runs, so the operator only accepts it when
started with `--allow-local-target` (checked before any Task is planned).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from dtk_operator.targets.base import CommandOutcome, CommandRequest, NodeFacts, NodeRequest, TargetError
from dtk_operator.targets.output import TailBuffer, drain
from dtk_operator.targets.processes import REAPER, held_command, owner_environment, reap_previous_life, release

# The operator's own environment may hold credentials: steps get only these from it.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


def _dir_name(node: str) -> str:
    """A node's folder: a name of its own that cannot leave the instance's folder. Node names are
    DNS labels (`master`), members add `:N` (shown as `_N`); anything else that reaches here (an
    object stored without schema checks) is percent-encoded, so `g_1`, `..` and `/x` stay apart."""
    return "".join(char if char in _KEPT else "_" if char == ":" else
                   "".join(f"%{byte:02X}" for byte in char.encode()) for char in node) or "%00"


_KEPT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


# Steps mostly wait (on a sleep, a download, another machine), so the bound is against a fork
# storm (a 5,000-member stage at once), not a CPU count: a 200-member group still runs at once.
DEFAULT_LOCAL_MAX_PROCESSES = 256


class LocalTarget:
    def __init__(self, root: Path, *, max_processes: int = DEFAULT_LOCAL_MAX_PROCESSES) -> None:
        """`max_processes`: steps running at once over all Tasks; the others wait their turn, in
        the order they asked (a 5,000-member stage neither forks 5,000 processes nor runs serially)."""
        self.root = root
        self.max_processes = max_processes
        self._slots: asyncio.Semaphore | None = None  # made on first use, inside the operator's loop

    def instance_dir(self, namespace: str, instance: str) -> Path:
        return self.root / namespace / instance

    def node_dir(self, namespace: str, instance: str, node: str) -> Path:
        path = self.instance_dir(namespace, instance) / _dir_name(node)
        # Defence in depth (names are encoded): checked on the text alone, no file-system call on the loop.
        if not Path(os.path.normpath(path)).is_relative_to(os.path.normpath(self.root)):
            raise TargetError(f"node '{node}' would live outside the local target's root {self.root}")
        return path

    async def create_node(self, request: NodeRequest) -> NodeFacts:
        path = self.node_dir(request.namespace, request.instance, request.name)
        # idempotent: a re-run after a crash adopts it; off the loop, like every file operation here
        await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        return NodeFacts(
            name=request.name, group=request.group, instance_id=f"local-{request.instance}-{_dir_name(request.name)}",
            state="running", private_ip="127.0.0.1", dns_name="localhost",
            instance_type=request.binding.get("instanceType", "local"), image=request.binding.get("image", "local"),
        )

    async def start_node(self, request: NodeRequest, node: NodeFacts) -> NodeFacts:
        return replace(node, state="running")

    async def stop_nodes(self, namespace: str, instance: str, nodes: Sequence[NodeFacts]) -> list[NodeFacts]:
        return [replace(n, state="stopped") for n in nodes]  # a directory has no power to cut

    async def run(self, node: NodeFacts, command: CommandRequest) -> CommandOutcome:
        workdir = self.node_dir(command.namespace, command.instance, node.name)
        env = {**command.env, "DTK_NODE_DIR": str(workdir),
               **owner_environment(self.instance_dir(command.namespace, command.instance))}
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_processes)
        # The slot is asked for before anything is awaited, so rows queue in the order a stage
        # hands them out, and a row starts as it gets its slot: rows start in their order (a
        # node folder made in a thread first let rows overtake each other, as threads finish in
        # any order). A step's timeout counts from its start, not from its wait for a slot.
        async with self._slots:
            command.begin()
            await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
            return await run_shell(command.run, cwd=workdir, env=_environment(env), timeout=command.timeout_seconds)

    async def reap(self, namespace: str, instance: str, task: str, rows: Collection[str]) -> list[int]:
        """Kills what a previous operator life left running for these rows (see processes.py)."""
        return await reap_previous_life(self.instance_dir(namespace, instance), task, rows)

    async def release(self, namespace: str, instance: str, nodes: Sequence[NodeFacts], *,
                      everything: bool = False) -> None:
        if everything:
            await asyncio.to_thread(shutil.rmtree, self.instance_dir(namespace, instance), True)
        for node in nodes:
            await asyncio.to_thread(shutil.rmtree, self.node_dir(namespace, instance, node.name), True)
        with contextlib.suppress(OSError):
            self.instance_dir(namespace, instance).rmdir()


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
    env.update(extra)
    return env


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def run_shell(script: str, *, cwd: Path, env: Mapping[str, str], timeout: float | None) -> CommandOutcome:
    """`/bin/sh -c script` in its own process group, so a timeout or cancel kills its children too,
    and so does the operator's death (processes.py: the reaper knows the group)."""
    if not REAPER.running:
        await asyncio.to_thread(REAPER.start)  # its start-up, tens of ms, off the loop
    process = await asyncio.create_subprocess_exec(
        *held_command(script), cwd=cwd, env=dict(env), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    REAPER.track(process.pid)  # the group's id is its leader's pid
    release(process)  # only now may the step begin: the reaper knows its group
    try:
        return await _outcome(process, timeout)
    finally:
        REAPER.forget(process.pid)


async def _outcome(process: asyncio.subprocess.Process, timeout: float | None) -> CommandOutcome:
    out, err = TailBuffer(), TailBuffer()
    readers = asyncio.gather(drain(process.stdout, out), drain(process.stderr, err), process.wait())
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(readers), timeout)
    except TimeoutError:
        timed_out = True
        _kill_group(process)
        # A grandchild that left the group could hold the pipes open: wait for it, but not forever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(readers, 5)
    except asyncio.CancelledError:
        _kill_group(process)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(readers, 5)
        raise
    return CommandOutcome(return_code=None if timed_out else process.returncode, stdout=out.text(),
                          stderr=err.text(), truncated=out.truncated or err.truncated, timed_out=timed_out)
