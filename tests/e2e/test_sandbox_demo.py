"""`dtk-operator sandbox --demo FILE`: the embedded default, as `make demo` runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_SECONDS = 120.0


@pytest.mark.parametrize("example", ["spark-cluster.yaml", "spark-cluster-ec2.yaml"])
def test_the_demo_streams_the_spark_task_to_success(example: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dtk-operator"), "sandbox", "--dir", str(tmp_path), "--demo",
         str(ROOT / "examples" / example)],
        capture_output=True, text=True, timeout=DEMO_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert out.startswith(f"export KUBECONFIG={tmp_path / 'kubeconfig'}\n")
    assert "start 'assembly_converge' =========================" in out
    assert out.count("\nSTAGE ") == 12 and "STAGE 12: component gitarchive[mar01]" in out
    assert "end: 'assembly_converge' (total duration:" in out
    assert "\n37 rows in set\n" in out and out.rstrip().endswith("task spark-cluster1-1: succeeded")
