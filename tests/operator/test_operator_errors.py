"""Unexpected errors in the operator's handlers and Task runs (issue 8 point 2), provoked the way a
cluster provokes them: the operator's ServiceAccount lacks a permission, and the API server answers
403 Forbidden. Retries back off, users are told on the object, and nothing waits forever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dtk_api import resources as r
from dtk_sandbox.kubeapi.authorization import Denials
from support.cluster import Kube
from support.manifests import assembly, component, condition, instance, task
from support.private_api import private_api

READ_ASSEMBLIES = ("get", r.GROUP, r.ASSEMBLY_PLURAL)


@pytest.fixture
def forbidding(tmp_path: Path) -> Iterator[tuple[Kube, Denials]]:
    denials = Denials()
    with private_api(tmp_path, denials=denials) as (kube, _operator):
        yield kube, denials


def one_step() -> dict[str, object]:
    return assembly("app", components=[component("c", "true")], nodes={"a": ["c"]},
                    stages=[{"name": "c", "components": ["c"]}])


def test_point_2_a_failing_reconcile_backs_off_says_why_on_the_instance_and_recovers(
    forbidding: tuple[Kube, Denials]
) -> None:
    kube, denials = forbidding
    denials.deny(*READ_ASSEMBLIES)
    kube.create(r.ASSEMBLY_PLURAL, one_step())
    kube.create(r.INSTANCE_PLURAL, instance("si", "app"))

    stalled = condition(kube.condition_when(r.INSTANCE_PLURAL, "si", "Stalled", timeout=20), "Stalled")
    assert stalled["reason"] == "OperatorError"
    assert 'cannot get resource "assemblies" in API group "dtk.io"' in stalled["message"]
    assert "failed 3 times in a row" in stalled["message"] and "retrying in 4 s" in stalled["message"]
    event = kube.event_seen("si", "OperatorError", kind="Warning")
    assert "403 Forbidden" in event.message
    assert not kube.tasks_of("si")

    denials.allow(*READ_ASSEMBLIES)  # the permission is granted: the next try (within ~16 s) goes through
    recovered = kube.condition_when(r.INSTANCE_PLURAL, "si", "Ready", timeout=40)
    assert condition(recovered, "Stalled")["status"] == "False"
    assert kube.finished_task(kube.first_task("si"))["status"]["state"] == "succeeded"


def test_point_2_a_task_whose_run_keeps_failing_is_failed_with_the_reason_not_left_pending(
    forbidding: tuple[Kube, Denials]
) -> None:
    kube, denials = forbidding
    kube.create(r.ASSEMBLY_PLURAL, one_step())
    kube.create(r.INSTANCE_PLURAL, instance("si", "app", staged=True))
    kube.wait("the instance to be observed",
              lambda: (kube.get(r.INSTANCE_PLURAL, "si") or {}).get("status", {}).get("observedGeneration"))
    denials.deny(*READ_ASSEMBLIES)  # planning a Task reads its Assembly
    kube.create(r.TASK_PLURAL, task("by-hand", "si", "create"))

    warned = kube.event_seen("by-hand", "OperatorError", kind="Warning", timeout=20)
    assert "failed 3 times in a row running this task" in warned.message
    done = kube.finished_task("by-hand", timeout=60)
    assert done["status"]["state"] == "failed"
    message = done["status"]["failure"]["message"]
    assert message.startswith("operator error, given up after 6 tries: the API server answered 403 Forbidden")
    assert condition(done, "Completed")["status"] == "True" and condition(done, "Succeeded")["status"] == "False"
    kube.event_seen("by-hand", "TaskFailed", kind="Warning")


def test_a_big_instance_whose_clean_up_keeps_failing_is_let_go_naming_how_many_machines_may_be_left(
    forbidding: tuple[Kube, Denials]
) -> None:
    """Its members' records are in NodeShards, which the garbage collector deletes with it: the
    Event is the last place that says they existed."""
    kube, denials = forbidding
    members = 250
    kube.create(r.ASSEMBLY_PLURAL, assembly("big", components=[component("c", "true")], nodes={},
                                            groups={"m": (members, ["c"])},
                                            stages=[{"name": "c", "components": ["c"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("si", "big"))
    assert kube.finished_task(kube.first_task("si"), timeout=60)["status"]["state"] == "succeeded"
    assert kube.list(r.NODE_SHARD_PLURAL)
    denials.deny("get", r.GROUP, r.INSTANCE_PLURAL)  # the clean-up reads the instance first
    kube.delete(r.INSTANCE_PLURAL, "si")
    event = kube.event_seen("si", "CleanupAbandoned", kind="Warning", timeout=60)  # 1 + 2 + 4 + 8 + 16 s of retries
    # what matters first, and short: kopf cuts the middle out of a message over 1,024 characters
    assert event.message.startswith(f"deletion went on without cleaning up; {members} node(s) may still run: "
                                    "m:1 (local-si-m_1), m:2 (local-si-m_2), "), event.message
    assert f"m:10 (local-si-m_10) and {members - 10} more; because 6 clean-ups failed" in event.message
    assert len(event.message) <= 1024 and 'cannot get resource "serviceinstances"' in event.message, event.message
    denials.allow("get", r.GROUP, r.INSTANCE_PLURAL)  # the test's own reads too
    kube.wait("the instance gone", lambda: kube.get(r.INSTANCE_PLURAL, "si") is None or None)
