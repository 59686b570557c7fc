"""Fixtures for end-to-end tests: an API server (emulator or DTK_TEST_KUBECONFIG), a namespace
per test, and the operator as a real subprocess. Nothing here touches a cluster at import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.aws_proxy import AwsProxy, aws_proxy
from support.chart_rbac import after_e2e
from support.cluster import Kube, api_server, drop_namespace, new_namespace
from support.moto_server import MotoServer
from support.operator_process import OperatorProcess, served
from support.targets import Targets


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # On the emulator, what the operator asked for is checked against the chart's RBAC at the end
    # (and recorded, with DTK_RECORD_API_ACCESS): see support/chart_rbac.py.
    with api_server(tmp_path_factory.mktemp("api"), on_close=after_e2e) as path:
        yield path


@pytest.fixture
def namespace(kubeconfig: Path) -> Iterator[str]:
    name = new_namespace(kubeconfig)
    yield name
    drop_namespace(kubeconfig, name)


@pytest.fixture
def kube(kubeconfig: Path, namespace: str) -> Kube:
    return Kube(kubeconfig, namespace)


@pytest.fixture
def targets(kube: Kube) -> Targets:
    return Targets(kube)


def _operator(request: pytest.FixtureRequest, kubeconfig: Path, namespace: str, tmp_path: Path,
              allow_local: bool, verbose: bool = False) -> Iterator[OperatorProcess]:
    yield from served(request, OperatorProcess(kubeconfig=kubeconfig, namespace=namespace, workdir=tmp_path,
                                               allow_local=allow_local, verbose=verbose))


@pytest.fixture
def operator(request: pytest.FixtureRequest, kubeconfig: Path, namespace: str,
             tmp_path: Path) -> Iterator[OperatorProcess]:
    yield from _operator(request, kubeconfig, namespace, tmp_path, allow_local=True)


@pytest.fixture
def verbose_operator(request: pytest.FixtureRequest, kubeconfig: Path, namespace: str,
                     tmp_path: Path) -> Iterator[OperatorProcess]:
    """An operator started with -v: debug logging, where client libraries log requests."""
    yield from _operator(request, kubeconfig, namespace, tmp_path, allow_local=True, verbose=True)


@pytest.fixture
def strict_operator(request: pytest.FixtureRequest, kubeconfig: Path, namespace: str,
                    tmp_path: Path) -> Iterator[OperatorProcess]:
    """An operator started without --allow-local-target."""
    yield from _operator(request, kubeconfig, namespace, tmp_path, allow_local=False)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def ec2_proxy(moto: MotoServer) -> Iterator[AwsProxy]:
    """A clean moto behind a proxy that counts calls and can inject faults."""
    moto.reset()
    with aws_proxy(moto.url) as proxy:
        yield proxy
