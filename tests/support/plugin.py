"""Runs the real `kubectl-dtk` executable (the console script in this virtualenv) as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXECUTABLE = Path(sys.executable).parent / "kubectl-dtk"
DEFAULT_TIMEOUT_SECONDS = 60.0


def dtk(kubeconfig: Path, namespace: str, *args: str, timeout: float = DEFAULT_TIMEOUT_SECONDS,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl-dtk --kubeconfig K -n NS ARGS...`, not on a terminal, with NO_COLOR unset."""
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    return subprocess.run([str(EXECUTABLE), *args, "--kubeconfig", str(kubeconfig), "-n", namespace],
                          capture_output=True, text=True, timeout=timeout, env=environment, stdin=subprocess.DEVNULL)
