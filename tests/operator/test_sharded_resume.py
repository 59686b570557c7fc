"""A big Task's rows live in two kinds of object written one after the other: its TaskShards first,
then the Task's own status (SPEC 11). An operator that dies between the two leaves shards newer
than the Task's stage rows; the next operator life must read the tree as the shards say.

Provoked as a cluster would: the API server refuses the Task's status writes (403, a lost
permission) while the shards are still written, then the operator is SIGKILLed and restarted."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dtk_api import resources as r
from dtk_sandbox.kubeapi.authorization import Denials
from support.cluster import Kube
from support.manifests import assembly, component, instance
from support.operator_process import OperatorProcess
from support.private_api import private_api

MEMBERS = 200  # 404 rows: over the 400 a Task keeps inline, so its member rows live in TaskShards
WRITE_TASK_STATUS = ("patch", r.GROUP, f"{r.TASK_PLURAL}/status")


@pytest.fixture
def forbidding(tmp_path: Path) -> Iterator[tuple[Kube, OperatorProcess, Denials]]:
    denials = Denials()
    with private_api(tmp_path, denials=denials) as (kube, operator):
        yield kube, operator, denials


def shard_rows(kube: Kube, task: str) -> dict[str, dict[str, Any]]:
    return {row["index"]: row for shard in kube.list(r.SHARD_PLURAL, f"{r.TASK_LABEL}={task}")
            for row in shard.get("steps") or []}


def stage_row(task: dict[str, Any], index: str) -> dict[str, Any]:
    return next(row for row in (task.get("status") or {}).get("steps") or [] if row["index"] == index)


def test_a_stage_whose_members_were_stored_done_only_in_shards_ends_succeeded_without_running_again(
    forbidding: tuple[Kube, OperatorProcess, Denials], tmp_path: Path
) -> None:
    kube, operator, denials = forbidding
    gate = tmp_path / "gate"
    gate.touch()
    with gate.open() as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # every member's step waits for a shared lock on it
        kube.create(r.ASSEMBLY_PLURAL, assembly(
            "crowd", components=[component("base", f"flock -s {gate} true && echo run >> runs")], nodes={},
            groups={"m": (MEMBERS, ["base"])}, stages=[{"name": "base", "components": ["base"]}]))
        kube.create(r.INSTANCE_PLURAL, instance("crowd1", "crowd"))
        name = kube.first_task("crowd1")
        kube.task_when(name, lambda t: bool((t.get("status") or {}).get("shards"))
                       and stage_row(t, "2").get("status") == "executing",
                       what="the configure stage stored as executing, in a sharded Task", timeout=120)
        denials.deny(*WRITE_TASK_STATUS)
    # The lock is released: every member runs once and its row reaches its shard; the Task's own
    # status, with the stage's outcome, is refused.
    kube.wait("every member stored succeeded in the shards", lambda: [
        shard_rows(kube, name).get(f"2.1.{n}", {}).get("status") for n in range(1, MEMBERS + 1)
    ] == ["succeeded"] * MEMBERS or None, timeout=120)
    assert stage_row(kube.get(r.TASK_PLURAL, name) or {}, "2")["status"] == "executing"

    operator.kill()
    denials.allow(*WRITE_TASK_STATUS)
    operator.start()

    finished = kube.finished_task(name, timeout=60)
    assert finished["status"]["state"] == "succeeded", finished["status"].get("failure")
    assert [row["status"] for row in finished["status"]["steps"]] == ["succeeded"] * 3  # top, two stages
    assert finished["status"]["progress"] == {"completed": 2 * MEMBERS, "total": 2 * MEMBERS}
    assert shard_rows(kube, name)["2.1"]["status"] == "succeeded"  # the group row
    runs = [len((node / "runs").read_text().splitlines())
            for node in (operator.local_root / kube.namespace / "crowd1").iterdir()]
    assert runs == [1] * MEMBERS, "a member stored succeeded ran again"
