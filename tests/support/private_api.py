"""An API server of a test's own, with the operator running against it: for what the shared one
must not hold (an older CRD) or must not refuse (malformed objects, with validation off)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.kubeapi.authorization import Denials
from dtk_sandbox.kubeapi.latency import Latency
from support.cluster import CRDS, Kube, new_namespace
from support.operator_process import OperatorProcess


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
        namespace = new_namespace(kubeconfig)
        operator = OperatorProcess(kubeconfig=kubeconfig, namespace=namespace, workdir=workdir).start()
        try:
            yield Kube(kubeconfig, namespace), operator
        finally:
            operator.stop()
