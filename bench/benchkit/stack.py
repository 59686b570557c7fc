"""What one benchmark runs against: the API emulator and the operator as processes, a namespace, a watch.

Three processes, as in a cluster: the API server, the operator (`dtk-operator run`, exactly as it
is deployed, local target allowed) and the measuring client, so that none of them competes with
another for its Python interpreter lock. Everything is stopped on the way out, failure or not.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchkit.kube import Body, Kube, server_and_token
from benchkit.processes import Child, wait_until
from benchkit.watch import TaskWatch
from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES

CRDS = Path(__file__).resolve().parents[2] / "crds"
EMULATOR_START_SECONDS = 20.0  # it binds and writes its kubeconfig in about 1 s (imports included)
OPERATOR_READY_SECONDS = 30.0  # kopf starts watching in 1-2 s; this catches an operator that never does
SETTLE_SECONDS = 30.0  # an instance's status catches up with its Task within milliseconds
PROFILE_ENV = "DTK_BENCH_PROFILE"  # a directory: the operator runs under cProfile and leaves its stats there


@dataclass(frozen=True)
class Stack:
    kube: Kube
    watch: TaskWatch
    operator: Child
    workdir: Path

    def wait(self, what: str, ready: Callable[[], bool], *, timeout: float) -> None:
        """A deadline-bound poll that also fails at once if the operator died."""
        wait_until(what, ready, timeout=timeout, child=self.operator)

    def apply_assembly(self, body: Body) -> None:
        """Creates it and waits until the operator has reported on it: proof the operator is up."""
        name = body["metadata"]["name"]
        self.kube.create(r.ASSEMBLY_PLURAL, body)
        self.wait(f"the operator to report on assembly {name}",
                  lambda: _observed(self.kube.get(r.ASSEMBLY_PLURAL, name)), timeout=OPERATOR_READY_SECONDS)

    def settle(self, instance: str, task: str) -> None:
        """Waits until the instance's LAST RUN shows `task` ended: the operator is idle again."""
        def ended() -> bool:
            body = self.kube.get(r.INSTANCE_PLURAL, instance) or {}
            last = (body.get("status") or {}).get("lastRun") or {}
            return last.get("task") == task and last.get("state") in TERMINAL_TASK_STATES

        self.wait(f"instance {instance} to settle after {task}", ended, timeout=SETTLE_SECONDS)


def _observed(body: Body | None) -> bool:
    return body is not None and (body.get("status") or {}).get("observedGeneration") is not None


@contextmanager
def running_stack(label: str) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix=f"dtk-bench-{label}-") as tmp, ExitStack() as cleanup:
        workdir = Path(tmp)
        kubeconfig = start_emulator(workdir, cleanup)
        namespace = f"bench-{label}"
        kube = Kube(kubeconfig, namespace)
        kube.create_namespace()
        server, token = server_and_token(kubeconfig)
        watch = cleanup.enter_context(TaskWatch(server=server, token=token, namespace=namespace))
        operator = _operator(label, workdir=workdir, kubeconfig=kubeconfig, namespace=namespace).start()
        cleanup.callback(operator.stop)
        try:
            yield Stack(kube=kube, watch=watch, operator=operator, workdir=workdir)
        except Exception:  # not on Ctrl-C or SIGTERM: the log would only hide why the run stopped
            print(f"--- operator log (last lines) ---\n{operator.log_tail()}", file=sys.stderr)
            raise


def _operator(label: str, *, workdir: Path, kubeconfig: Path, namespace: str) -> Child:
    """`dtk-operator run` as deployed; under cProfile when DTK_BENCH_PROFILE names a directory."""
    args = ["run", "-n", namespace, "--kubeconfig", str(kubeconfig), "--allow-local-target",
            "--local-root", str(workdir / "nodes")]
    profile_dir = os.environ.get(PROFILE_ENV)
    if not profile_dir:
        return Child(module="dtk_operator", args=args, log=workdir / "operator.log")
    target = Path(profile_dir).resolve() / f"operator-{label}.prof"  # written when the operator exits
    target.parent.mkdir(parents=True, exist_ok=True)
    return Child(module="cProfile", args=["-o", str(target), "-m", "dtk_operator", *args], log=workdir / "operator.log")


def start_emulator(workdir: Path, cleanup: ExitStack) -> Path:
    """Starts `python -m dtk_sandbox.kubeapi`; its kubeconfig appears (atomically) once it serves."""
    kubeconfig = workdir / "kubeconfig"
    emulator = Child(module="dtk_sandbox.kubeapi", log=workdir / "kubeapi.log",
                     args=["--port", "0", "--kubeconfig", str(kubeconfig), "--crds", str(CRDS)]).start()
    cleanup.callback(emulator.stop)
    wait_until("the API emulator to serve", kubeconfig.exists, timeout=EMULATOR_START_SECONDS, child=emulator)
    _default_target(kubeconfig)
    return kubeconfig


def _default_target(kubeconfig: Path) -> None:
    """What an admin provides: a local Target, the default of every namespace (instances name none)."""
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
    api.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, {
        "apiVersion": r.API_VERSION, "kind": r.TARGET_KIND,
        "metadata": {"name": "bench-local", "annotations": {r.DEFAULT_TARGET_ANNOTATION: "true"}},
        "spec": {"provider": "local", "allowedNamespaces": {}}})
