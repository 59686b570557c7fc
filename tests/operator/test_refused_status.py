"""
A status the API server refuses never leaves a Task `executing` (SPEC 4).

The case that hung a real cluster's Task: the installed Task CRD is older than the operator and
requires `returnCode`, which a timed-out step's result does not have. The API server answers 422
to every status write of that Task; the operator falls back to a minimal terminal status (state,
endedAt, failure, conditions), the Task ends `failed` saying why, and the next Task runs.

The test needs an API server of its own (an older CRD would break every other test), so it runs
on the emulator, which validates status writes as kube-apiserver does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance, task
from support.operator_process import OperatorProcess
from support.private_api import older_task_crds, private_api


@pytest.fixture
def kube_with_older_crds(tmp_path: Path) -> Iterator[tuple[Kube, OperatorProcess]]:
    with private_api(tmp_path, crds=older_task_crds(tmp_path / "crds")) as running:
        yield running


def test_a_refused_status_ends_the_task_failed_saying_why_and_the_next_task_runs(
        kube_with_older_crds: tuple[Kube, OperatorProcess]) -> None:
    kube, _ = kube_with_older_crds
    slow = component("slow", {"run": "sleep 30", "timeoutSeconds": 1})
    kube.create(r.ASSEMBLY_PLURAL, assembly(
        "older", components=[component("quick", "echo ok"), slow], nodes={"web": ["quick", "slow"]},
        stages=[{"name": "quick", "components": ["quick"]}, {"name": "slow", "components": ["slow"]}],
        workflows=[{"name": "again", "stages": [{"name": "quick", "components": ["quick"]}]}]))
    kube.create(r.INSTANCE_PLURAL, instance("app", "older"))
    first = kube.first_task("app")
    kube.create(r.TASK_PLURAL, task("app-again", "app", "again"))  # queued behind the first

    done: dict[str, Any] = kube.finished_task(first, timeout=30)
    status = done["status"]
    assert status["state"] == "failed" and status["endedAt"]
    assert "the API server refused the Task's status" in status["failure"]["message"]
    assert "returnCode: Required value" in status["failure"]["message"]
    assert "Timeout (1 sec) for this action has been exceeded" in status["failure"]["message"]
    assert condition(done, "Completed")["status"] == "True" and condition(done, "Succeeded")["status"] == "False"
    kube.event_seen(first, "TaskFailed", kind="Warning")

    after = kube.finished_task("app-again", timeout=30)  # not blocked behind a Task stuck `executing`
    assert after["status"]["state"] == "succeeded"
