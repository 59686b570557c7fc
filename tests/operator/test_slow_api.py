"""A loaded API server answers some requests late, so one client's requests can be applied out of
order. The operator's status writes must still end with the latest status: a Task whose run ended
is never left `executing` by an older write that landed last (issue 8 point 5: the `kept-1` hang)."""

from __future__ import annotations

from pathlib import Path

from dtk_api import resources as r
from dtk_sandbox.kubeapi.latency import Latency
from support.manifests import assembly, component, instance, task
from support.private_api import private_api


def test_point_5_tasks_end_with_their_final_status_even_when_writes_are_answered_out_of_order(
    tmp_path: Path,
) -> None:
    latency = Latency()
    # Every status write of a Task waits 0 to 300 ms: a later write often overtakes an earlier one.
    latency.slow_down("patch", r.GROUP, f"{r.TASK_PLURAL}/status", low=0.0, high=0.3)
    names = [f"s{i}" for i in range(4)]
    with private_api(tmp_path, latency=latency) as (kube, _operator):
        kube.create(r.ASSEMBLY_PLURAL, assembly("quick", components=[component(n, "true") for n in names],
                                                nodes={"a": names}, stages=[{"name": n, "components": [n]}
                                                                            for n in names]))
        kube.create(r.INSTANCE_PLURAL, instance("si", "quick"))
        first = kube.first_task("si")
        runs = [first] + [kube.create(r.TASK_PLURAL, task(f"again-{i}", "si", "create"))["metadata"]["name"]
                          for i in range(8)]
        for name in runs:
            done = kube.finished_task(name, timeout=60)
            assert done["status"]["state"] == "succeeded", (name, done["status"])
            progress = done["status"]["progress"]
            assert progress["completed"] == progress["total"] >= len(names), (name, progress)
