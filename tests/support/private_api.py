"""An API server of a test's own, with the operator running against it: for what the shared one
must not hold (an older CRD) or must not refuse (malformed objects, with validation off)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from dtk_api import resources as r
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.kubeapi.authorization import Denials
from dtk_sandbox.kubeapi.latency import Latency
from support.cluster import CRDS, Kube, new_namespace
from support.operator_process import OperatorProcess
from support.targets import default_target_ready, ensure_default_target


@contextmanager
def private_api(workdir: Path, *, crds: Path = CRDS, validation: bool = True,
                denials: Denials | None = None, latency: Latency | None = None,
                ) -> Iterator[tuple[Kube, OperatorProcess]]:
    """`denials`: requests the API server refuses with 403 as RBAC would; `latency`: requests it
    answers late. The test may change both while the operator runs."""
    emulator = KubeApiEmulator(validation=validation, denials=denials or Denials(), latency=latency or Latency())
    with ServedApi(emulator) as api:
        api.install_crds(crds)
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", api.url)
        ensure_default_target(kubeconfig)
        namespace = new_namespace(kubeconfig)
        operator = OperatorProcess(kubeconfig=kubeconfig, namespace=namespace, workdir=workdir).start()
        default_target_ready(kubeconfig)
        try:
            yield Kube(kubeconfig, namespace), operator
        finally:
            operator.stop()


def older_task_crds(directory: Path) -> Path:
    """crds/ with the Task CRD of before issue 7's fix: every command result must carry a
    returnCode, so the API server refuses the status of a Task whose step timed out (as a real
    cluster did), and the operator must fall back to a minimal final status without rows (SPEC 4)."""
    directory.mkdir()
    for source in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(source.read_text())
        if crd["spec"]["names"]["kind"] == r.TASK_KIND:
            status = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
            result = status["properties"]["steps"]["items"]["properties"]["results"]["items"]
            result["required"] = [*result["required"], "returnCode"]
        (directory / source.name).write_text(yaml.safe_dump(crd))
    return directory
