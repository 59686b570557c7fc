"""(h) What the sandbox API's schema admission costs per write of a Task's status.

kube-apiserver validates every write against the CRD schema, and so does the emulator (issue 7).
Measured in this process, on the emulator's own admission step, for the shapes the operator
writes: a 12-stage one-node Task (benchmark (b)'s) and a 2-stage 200-member group (benchmark (c)'s),
each with its last stage's rows changed since the stored version. "full" is a first sight of the
object (or a write after a CRD change); "incremental" is the usual case, where the stored version
was admitted under the same schema and only the changed parts are walked. CPU time, best of 3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from benchkit.cli import run
from benchkit.report import Check, Figure, Result

from dtk_api.task_status import CommandResult, Step, TaskStatus
from dtk_api.task_wire import to_status
from dtk_sandbox.kubeapi.admission import SchemaAdmission, WriteOptions, admit_size
from dtk_sandbox.kubeapi.crds import specs_from_crd
from dtk_sandbox.kubeapi.patches import merge_patch

ROOT = Path(__file__).resolve().parents[1]
TASK_SPEC = specs_from_crd(yaml.safe_load((ROOT / "crds" / "task.yaml").read_text()))[0]
AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ROUNDS = 3
# A status write of (b)'s Task is admitted in well under a millisecond: far below the engine's
# 50 ms coalescing window and the 25 ms per-stage overhead target.
TARGET_SMALL_MS = 1.0


def _status(stages: int, members: int, *, last_running: bool) -> dict[str, Any]:
    steps = [Step(index="", kind="task", name="assembly_converge", status="executing", started_at=AT)]
    for stage in range(1, stages + 1):
        steps.append(Step(index=str(stage), kind="stage", name=f"s{stage}", status="succeeded", started_at=AT,
                          ended_at=AT, components=("n/c",)))
        for member in range(1, members + 1):
            running = last_running and stage == stages
            steps.append(Step(index=f"{stage}.{member}", kind="configure_node", name="configure_node",
                              node=f"g:{member}", status="executing" if running else "succeeded", started_at=AT,
                              ended_at=None if running else AT, results=(CommandResult(run="true", return_code=0),)))
    return dict(to_status(TaskStatus(state="executing", started_at=AT, steps=tuple(steps))))


def _best_ms(call: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(repeat):
            call()
        best = min(best, (time.process_time() - started) / repeat)
    return best * 1000


def _admit(schemas: SchemaAdmission, written: dict[str, Any], stored: dict[str, Any]) -> None:
    options = WriteOptions()
    admit_size(TASK_SPEC, schemas.admit(TASK_SPEC, written, stored, options), stored, options)


def _case(stages: int, members: int, repeat: int) -> tuple[int, float, float]:
    task = yaml.safe_load((ROOT / "crds" / "samples" / "task.yaml").read_text())
    task["metadata"].update(namespace="bench", resourceVersion="7")
    stored = merge_patch(task, {"status": _status(stages, members, last_running=False)})
    written = merge_patch(stored, {"status": _status(stages, members, last_running=True)})
    warm = SchemaAdmission()
    warm.remember(TASK_SPEC, None, stored)
    cold = SchemaAdmission()
    full = _best_ms(lambda: _admit(cold, written, stored), repeat)
    incremental = _best_ms(lambda: _admit(warm, written, stored), repeat)
    return len(yaml.safe_dump(written["status"])), full, incremental


def benchmark() -> Result:
    small_bytes, small_full, small_incremental = _case(12, 1, 300)
    big_bytes, big_full, big_incremental = _case(2, 200, 20)
    return Result(
        key="h",
        title="Emulator schema admission per Task status write (CPU, this process)",
        figures=(
            Figure("12 stages x 1 node: status size (YAML)", f"{small_bytes / 1024:.1f} KiB"),
            Figure("  full admission", f"{small_full:.3f} ms"),
            Figure("  incremental (last stage changed)", f"{small_incremental:.3f} ms"),
            Figure("  ratio incremental / full", f"{small_incremental / small_full:.2f}"),
            Figure("2 stages x 200 members: status size (YAML)", f"{big_bytes / 1024:.1f} KiB"),
            Figure("  full admission", f"{big_full:.3f} ms"),
            Figure("  incremental (200 rows changed)", f"{big_incremental:.3f} ms"),
            Figure("  ratio incremental / full", f"{big_incremental / big_full:.2f}"),
        ),
        checks=(Check("incremental admission, 12-stage Task", small_incremental, TARGET_SMALL_MS, "ms"),),
        notes=("pruning, defaults, the OpenAPI schema, list-map keys, CEL rules and the size check, as in the "
               "emulator; the HTTP round trip is not included",),
    )


if __name__ == "__main__":
    run(benchmark, __doc__)
