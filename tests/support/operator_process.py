"""The operator as a real process (`dtk-operator run`), so tests can SIGKILL and restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

STOP_TIMEOUT_SECONDS = 15.0


class OperatorProcess:
    def __init__(self, *, kubeconfig: Path, namespace: str, workdir: Path, allow_local: bool = True) -> None:
        self.kubeconfig, self.namespace, self.workdir, self.allow_local = kubeconfig, namespace, workdir, allow_local
        self.local_root = workdir / "nodes"
        self.log = workdir / "operator.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        command = [sys.executable, "-m", "dtk_operator", "run", "-n", self.namespace,
                   "--kubeconfig", str(self.kubeconfig), "--local-root", str(self.local_root)]
        if self.allow_local:
            command.append("--allow-local-target")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a node dies under the operator."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_SECONDS)
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_SECONDS)
        self.process = None

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
