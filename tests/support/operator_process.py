"""The operator as a real process (`dtk-operator run`), so tests can SIGKILL and restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from support.moto_server import free_port

STOP_TIMEOUT_SECONDS = 15.0
START_TIMEOUT_SECONDS = 30.0  # kopf's start-up takes 1-2 s; a loaded machine, a few more
PORT_ATTEMPTS = 3


class OperatorProcess:
    """`extra_args` are added to `dtk-operator run` (e.g. --leader-elect), `env` to its environment;
    operators sharing a workdir share its node directories (the local target's host) but each
    needs its own `log_name`. `wrapper`, a command that execs the rest of its command line (as
    `setpriv --reuid=N --` does), starts the operator through it: the process is still the operator's."""

    def __init__(self, *, kubeconfig: Path, namespace: str, workdir: Path, allow_local: bool = True,
                 verbose: bool = False, extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 log_name: str = "operator.log", wrapper: Sequence[str] = ()) -> None:
        self.kubeconfig, self.namespace, self.workdir, self.allow_local = kubeconfig, namespace, workdir, allow_local
        self.verbose, self.extra_args, self.env = verbose, list(extra_args), dict(env or {})
        self.wrapper = list(wrapper)
        self.local_root = workdir / "nodes"
        self.log = workdir / log_name
        self.metrics_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        """Starts the operator and waits until it serves its metrics (its start-up is done). The
        metrics port is chosen free but may be taken before the operator binds it (another test
        run on the machine): then it is started again on another port."""
        for _ in range(PORT_ATTEMPTS):
            logged_before = self.log.stat().st_size if self.log.exists() else 0
            self._spawn()
            if self._serving(logged_before):
                return self
            self.stop()
            self.metrics_port = free_port()
        raise RuntimeError(f"the operator did not start; its log ends:\n{self.log_tail()}")

    def _spawn(self) -> None:
        # Its own namespace is the test's: Targets' credentials Secrets are read there (as in the chart's
        # release namespace), so each test keeps its Secrets to itself.
        command = [*self.wrapper, sys.executable, "-m", "dtk_operator", "run", "-n", self.namespace,
                   "--kubeconfig", str(self.kubeconfig), "--local-root", str(self.local_root),
                   "--metrics-port", str(self.metrics_port), "--operator-namespace", self.namespace]
        if self.allow_local:
            command.append("--allow-local-target")
        if self.verbose:
            command.append("-v")
        command += self.extra_args
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env})

    def _serving(self, logged_before: int) -> bool:
        """True once /metrics answers; False if the port was taken (or the process died first)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            with self.log.open("rb") as log:
                log.seek(logged_before)
                if b"Address already in use" in log.read():
                    return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the operator did not serve its metrics within {START_TIMEOUT_SECONDS:g} s; "
                           f"its log ends:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a node dies under the operator."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_SECONDS)
            self.process = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the operator is not running")
        return self.process.pid

    def terminate(self) -> None:
        """SIGTERM, without waiting: what Kubernetes sends a pod it stops (then `exited` waits)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)

    def exited(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Waits for the process to end on its own; its exit code."""
        if self.process is None:
            raise RuntimeError("the operator is not running")
        code = self.process.wait(timeout)
        self.process = None
        return code

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


def served(request: Any, process: OperatorProcess) -> Iterator[OperatorProcess]:
    """A fixture's body: `process` started for the test (once it has found the session's default
    Target Ready) and stopped after it, the end of its log printed when the test failed
    (`request.node.report_call`, set by the e2e conftest's hook)."""
    from support.targets import default_target_ready

    process.start()
    default_target_ready(process.kubeconfig)
    yield process
    process.stop()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(f"\n--- operator log (last lines) ---\n{process.log_tail()}")
