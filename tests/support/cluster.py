"""The API server the end-to-end tests talk to: the embedded emulator, or a real cluster.

With DTK_TEST_KUBECONFIG naming a kubeconfig, the suite installs the CRDs there with kubectl and
uses that API server; nothing here relies on what only the emulator accepts.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
T = TypeVar("T")


KUBECTL_APPLY_TIMEOUT = 120.0  # seconds for `kubectl apply` of the CRDs (a few round trips)
CRD_ESTABLISHED_TIMEOUT = 60  # seconds `kubectl wait` gives the CRDs to become Established
CRD_KIND = "CustomResourceDefinition"


def crd_files(directory: Path = CRDS) -> list[Path]:
    """The YAML files directly in `directory` that hold a CRD; subfolders (crds/samples/) are not read."""
    return [path for path in sorted(directory.glob("*.y*ml")) if _crd_documents(path)]


def crd_names(directory: Path = CRDS) -> list[str]:
    """The names of the CRDs in `directory`'s own YAML files (e.g. `assemblies.dtk.io`), in file order."""
    return [str(doc["metadata"]["name"]) for path in crd_files(directory) for doc in _crd_documents(path)]


def _crd_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
            if isinstance(doc, dict) and doc.get("kind") == CRD_KIND]


def _kubectl(kubeconfig: str, *args: str, timeout: float) -> None:
    """Runs kubectl with a deadline; a failure or a hang fails the caller with kubectl's own words."""
    command = ["kubectl", "--kubeconfig", kubeconfig, *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"{' '.join(command)} did not finish within {timeout:g} s") from error
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}{done.stdout}")


def install_crds(kubeconfig: str, directory: Path = CRDS) -> list[str]:
    """Applies the CRD files of `directory` (not its subfolders: `kubectl wait -f DIR` is recursive by
    default, unlike `apply`, and would wait for crds/samples/ objects that never exist) and waits
    until exactly those CRDs are Established. Returns the names it waited for."""
    files = crd_files(directory)
    names = crd_names(directory)
    if not names:
        raise RuntimeError(f"no CustomResourceDefinition in {directory}")
    file_args = [arg for path in files for arg in ("-f", str(path))]
    _kubectl(kubeconfig, "apply", "--request-timeout=30s", *file_args, timeout=KUBECTL_APPLY_TIMEOUT)
    _kubectl(kubeconfig, "wait", "--for=condition=Established", f"--timeout={CRD_ESTABLISHED_TIMEOUT}s",
             *(f"customresourcedefinition.apiextensions.k8s.io/{name}" for name in names),
             timeout=CRD_ESTABLISHED_TIMEOUT + 30)
    return names


@contextmanager
def api_server(workdir: Path, *, on_close: Callable[[list[tuple[str, Any]]], None] | None = None) -> Iterator[Path]:
    """Yields a kubeconfig path whose API server has our CRDs installed. With the emulator, `on_close`
    then gets every distinct (client, access) it served: the User-Agent product of the client
    (`kopf`, `dtk-operator`, `kubectl-dtk`, ...) and a `dtk_sandbox.kubeapi.rbac.Access`. A real
    cluster records nothing."""
    from support.targets import ensure_default_target  # what an admin provides: instances naming no Target use it

    real = os.environ.get("DTK_TEST_KUBECONFIG")
    if real:
        install_crds(real)
        ensure_default_target(Path(real))
        yield Path(real)
        return
    from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
    from dtk_sandbox.kubeapi.authorization import AccessLog

    accesses = AccessLog()
    with ServedApi(KubeApiEmulator(accesses=accesses)) as api:
        api.install_crds(CRDS)
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", api.url)
        ensure_default_target(kubeconfig)
        yield kubeconfig
    if on_close is not None:
        on_close(accesses.entries())


class Kube:
    """A test's view of the API: typed enough to read, strict about deadlines."""

    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.kubeconfig, self.namespace = kubeconfig, namespace
        api = k8s_config.new_client_from_config(config_file=str(kubeconfig))
        self.custom = k8s.CustomObjectsApi(api)
        self.core = k8s.CoreV1Api(api)

    def create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural, body)

    def get(self, plural: str, name: str) -> dict[str, Any] | None:
        try:
            return self.custom.get_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural, name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def patch(self, plural: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self.custom.patch_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural, name, patch)

    def patch_status(self, plural: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """A merge patch of the status subresource, as the operator writes it."""
        return self.custom.patch_namespaced_custom_object_status(r.GROUP, r.VERSION, self.namespace, plural, name,
                                                                 {"status": status})

    def delete(self, plural: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural, name)

    def list(self, plural: str, labels: str = "") -> list[dict[str, Any]]:
        found = self.custom.list_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural,
                                                          label_selector=labels)
        return list(found["items"])

    def tasks_of(self, instance: str) -> list[dict[str, Any]]:
        return self.list(r.TASK_PLURAL, f"{r.INSTANCE_LABEL}={instance}")

    def events_for(self, name: str) -> list[Any]:
        found = self.core.list_namespaced_event(self.namespace)
        return [e for e in found.items if e.involved_object.name == name]

    def event_seen(self, name: str, reason: str, *, text: str = "", kind: str = "", timeout: float = 10.0) -> Any:
        """The first Event about `name` with this reason; Events are posted asynchronously, so wait."""
        def probe() -> Any:
            found = [e for e in self.events_for(name)
                     if e.reason == reason and text in (e.message or "") and (not kind or e.type == kind)]
            return found[0] if found else None

        return self.wait(f"a {reason} event for {name}", probe, timeout)

    def wait(self, what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
        """Polls `probe` until it returns something truthy; fails the test with `what` after `timeout` s."""
        deadline = time.monotonic() + timeout
        last: T | None = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")

    def task_when(self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0,
                  what: str = "") -> dict[str, Any]:
        seen: list[dict[str, Any] | None] = [None]

        def probe() -> dict[str, Any] | None:
            task = seen[0] = self.get(r.TASK_PLURAL, name)
            return task if task is not None and predicate(task) else None

        try:
            return self.wait(what or f"task {name}", probe, timeout)
        except AssertionError as error:  # say where the Task was: a timeout alone explains nothing
            status = (seen[0] or {}).get("status") or {}
            where = {k: status.get(k) for k in ("state", "message", "progress", "shards", "failure")}
            stages = [(row.get("index"), row.get("status")) for row in status.get("steps") or []][:12]
            raise AssertionError(f"{error}; the Task last seen: {where}, rows {stages}") from None

    def first_task(self, instance: str, timeout: float = 30.0) -> str:
        """The name of the instance's first Task, once the operator has created it."""
        names = self.wait(f"a task of {instance}", lambda: [t["metadata"]["name"] for t in self.tasks_of(instance)],
                          timeout)
        return names[0]

    def condition_when(self, plural: str, name: str, kind: str, status: str = "True",
                       timeout: float = 30.0) -> dict[str, Any]:
        """The object once its condition `kind` has `status`."""
        def probe() -> dict[str, Any] | None:
            body = self.get(plural, name)
            found = [c for c in ((body or {}).get("status") or {}).get("conditions", []) if c["type"] == kind]
            return body if found and found[0]["status"] == status else None

        return self.wait(f"{name} to have {kind}={status}", probe, timeout)

    def finished_task(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.task_when(name, lambda t: (t.get("status") or {}).get("state") in ("succeeded", "failed",
                                                                                        "cancelled"),
                              timeout, f"task {name} to finish")


def new_namespace(kube_config: Path) -> str:
    name = f"dtk-e2e-{uuid.uuid4().hex[:8]}"
    api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kube_config)))
    api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    return name


def drop_namespace(kube_config: Path, name: str) -> None:
    from support.targets import remove_targets_of  # its Targets are cluster-scoped: they go with it

    remove_targets_of(kube_config, name)
    api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kube_config)))
    with suppress(ApiException):
        api.delete_namespace(name)
