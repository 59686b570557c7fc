"""The operator as a real process (`dtk-operator run`), so tests can SIGKILL and restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from support.moto_server import free_port

STOP_TIMEOUT_SECONDS = 15.0


class OperatorProcess:
    def __init__(self, *, kubeconfig: Path, namespace: str, workdir: Path, allow_local: bool = True,
                 verbose: bool = False) -> None:
        self.kubeconfig, self.namespace, self.workdir, self.allow_local = kubeconfig, namespace, workdir, allow_local
        self.verbose = verbose
        self.local_root = workdir / "nodes"
        self.log = workdir / "operator.log"
        self.metrics_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        command = [sys.executable, "-m", "dtk_operator", "run", "-n", self.namespace,
                   "--kubeconfig", str(self.kubeconfig), "--local-root", str(self.local_root),
                   "--metrics-port", str(self.metrics_port)]
        if self.allow_local:
            command.append("--allow-local-target")
        if self.verbose:
            command.append("-v")
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

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The operator's /metrics, scraped over HTTP: {(sample name, sorted labels): value}."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
