"""Tasks that wait on gate files, so a test decides when a run moves on (no sleeping and hoping),
and the plugin running in the background."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, steps_of
from support.plugin import EXECUTABLE

GATE_DEADLINE_TENTHS = 300  # a gate never opened fails its step after 30 s: no test hangs on it


def gate_step(path: Path, then: str = "true") -> str:
    """Waits (bounded) for `path` to exist, then runs `then`."""
    return (f"i=0; while [ ! -e {path} ]; do i=$((i+1)); [ $i -gt {GATE_DEADLINE_TENTHS} ] && exit 9; "
            f"sleep 0.1; done; {then}")


def gated_assembly(gates: Path, *, fail: bool = False) -> dict[str, Any]:
    """Stage 1 creates web, db, workers:1, workers:2; stage 2 `quick` runs on all (a node group
    too, for -s); stage 3 `first gate` waits for gates/1; stage 4 `second gate` for gates/2,
    then fails with `disk full` when asked to."""
    end = "echo 'disk full' >&2; exit 3" if fail else "echo done"
    return assembly(
        "gated",
        components=[component("quick", "echo ok"), component("gate1", gate_step(gates / "1")),
                    component("gate2", gate_step(gates / "2", end))],
        nodes={"web": ["quick", "gate1", "gate2"], "db": ["quick"]},
        groups={"workers": (2, ["quick"])},
        stages=[{"name": "quick", "components": ["quick"]}, {"name": "first gate", "components": ["gate1"]},
                {"name": "second gate", "components": ["gate2"]}],
        workflows=[{"name": "again", "stages": [{"name": "again", "components": ["quick"]}]}],
    )


def deploy_gated(kube: Kube, tmp_path: Path, name: str = "app", *, fail: bool = False) -> tuple[str, Path]:
    """Deploys; returns the Task's name and the gates' folder (touch gates/1, gates/2 to go on)."""
    gates = tmp_path / f"gates-{name}"
    gates.mkdir()
    kube.create(r.ASSEMBLY_PLURAL, gated_assembly(gates, fail=fail))
    kube.create(r.INSTANCE_PLURAL, instance(name, "gated"))
    return kube.first_task(name), gates


def at_row(kube: Kube, name: str, index: str, status: str) -> dict[str, Any]:
    return kube.task_when(name, lambda t: steps_of(t).get(index, {}).get("status") == status,
                          what=f"row {index} of {name} to be {status}")


def open_gates(gates: Path, *numbers: int) -> None:
    for number in numbers:
        (gates / str(number)).touch()


def read_until(process: subprocess.Popen[str], seen: list[str], wanted: str, timeout: float = 20.0) -> None:
    """Reads the process's stdout line by line into `seen` until a line contains `wanted`."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if wanted in line:
            return
    raise AssertionError(f"no line with {wanted!r} within {timeout:g} s; got:\n{''.join(seen)}")


def spawn(kube: Kube, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The executable running in the background, its output on pipes (not a terminal)."""
    return subprocess.Popen([str(EXECUTABLE), *args, "--kubeconfig", str(kube.kubeconfig), "-n", kube.namespace],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            env=env)
