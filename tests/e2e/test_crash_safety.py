"""The operator SIGKILLed mid-Task and started again resumes; succeeded rows never run twice."""

from __future__ import annotations

from pathlib import Path

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, steps_of
from support.operator_process import OperatorProcess


def counting(name: str, extra: str = "") -> dict[str, object]:
    # Each run appends a line, so the file's line count is how many times the step ran.
    return component(name, f"echo run >> runs-{name}{extra}")


def test_sigkill_mid_task_then_restart_resumes_without_rerunning(kube: Kube, operator: OperatorProcess) -> None:
    comps = [counting("one"), counting("two"), counting("three", " && sleep 2"), counting("four")]
    stages = [{"name": c["name"], "components": [c["name"]]} for c in comps]
    kube.create(r.ASSEMBLY_PLURAL, assembly("counted", components=comps,
                                            nodes={"a": [c["name"] for c in comps]},
                                            groups={"g": (2, [c["name"] for c in comps])}, stages=stages))
    kube.create(r.INSTANCE_PLURAL, instance("k", "counted"))
    name = kube.first_task("k")
    kube.task_when(name, lambda t: steps_of(t).get("4", {}).get("status") == "executing", what="stage 4 to run")
    operator.kill()
    interrupted = kube.get(r.TASK_PLURAL, name)
    assert interrupted is not None and interrupted["status"]["state"] == "executing"
    assert steps_of(interrupted)["2"]["status"] == "succeeded"

    operator.start()  # a new process, same namespace and node directories
    done = kube.finished_task(name, timeout=60)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    assert any("resumed" in m["text"] for m in done["status"]["messages"])
    node_dirs = sorted(p for p in operator.local_root.rglob("*") if p.is_dir() and p.parent.name == "k")
    assert [p.name for p in node_dirs] == ["a", "g_1", "g_2"]
    for node in node_dirs:
        for stage in ("one", "two"):
            assert _runs(node / f"runs-{stage}") == 1, f"{node.name}: {stage} ran again after the restart"
        assert _runs(node / "runs-three") >= 1 and _runs(node / "runs-four") == 1
    si = kube.get(r.INSTANCE_PLURAL, "k")
    assert si is not None and len(si["status"]["nodes"]) == 3  # no node was created twice


def _runs(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0
