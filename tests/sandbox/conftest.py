"""
Fixtures for the Kubernetes API emulator: a served emulator per test, clients pointed at it.

Every client talks real HTTP: the kubernetes client, pykube, kubectl as a subprocess, kopf.
"""
import copy
import pathlib
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes.client
import kubernetes.config
import pytest
import yaml

from dtk_sandbox.kubeapi import ServedApi, write_kubeconfig

WIDGETS_CRD: dict[str, Any] = {
    'apiVersion': 'apiextensions.k8s.io/v1',
    'kind': 'CustomResourceDefinition',
    'metadata': {'name': 'widgets.example.io'},
    'spec': {
        'group': 'example.io',
        'scope': 'Namespaced',
        'names': {'plural': 'widgets', 'singular': 'widget', 'kind': 'Widget',
                  'shortNames': ['wd'], 'categories': ['demo']},
        'versions': [{
            'name': 'v1', 'served': True, 'storage': True,
            'subresources': {'status': {}},
            'schema': {'openAPIV3Schema': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}},
            'additionalPrinterColumns': [
                {'name': 'Phase', 'type': 'string', 'jsonPath': '.status.phase'},
                {'name': 'Ready', 'type': 'string', 'jsonPath': '.status.conditions[?(@.type=="Ready")].status'},
                {'name': 'Size', 'type': 'integer', 'jsonPath': '.spec.size'},
                {'name': 'Age', 'type': 'date', 'jsonPath': '.metadata.creationTimestamp'},
            ],
        }],
    },
}
GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'


@pytest.fixture
def api() -> Iterator[ServedApi]:
    with ServedApi() as served:
        yield served


@pytest.fixture
def widgets_crd() -> dict[str, Any]:
    """A CRD with a status subresource, printer columns, a short name and a category."""
    return copy.deepcopy(WIDGETS_CRD)


@pytest.fixture
def crd_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    directory = tmp_path / 'crds'
    directory.mkdir()
    (directory / 'widgets.yaml').write_text(yaml.safe_dump(WIDGETS_CRD))
    return directory


@pytest.fixture
def widgets(api: ServedApi, crd_dir: pathlib.Path) -> None:
    """The example.io/v1 widgets resource, installed from a YAML file."""
    api.install_crds(crd_dir)


@pytest.fixture
def kubeconfig(api: ServedApi, tmp_path: pathlib.Path) -> pathlib.Path:
    return write_kubeconfig(tmp_path / 'kubeconfig', api.url)


@pytest.fixture
def k8s(kubeconfig: pathlib.Path) -> Iterator[kubernetes.client.ApiClient]:
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    yield client
    client.close()


@pytest.fixture
def custom(k8s: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(k8s)


@pytest.fixture
def core(k8s: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(k8s)


@pytest.fixture
def kubectl(kubeconfig: pathlib.Path, tmp_path: pathlib.Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run real kubectl against the emulator; a private cache dir keeps runs independent."""
    def run(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        command = ['kubectl', f'--kubeconfig={kubeconfig}', f'--cache-dir={tmp_path / "kubectl-cache"}', *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f'{" ".join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}')
        return result
    return run


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """Poll a condition until it is truthy (returns its value) or the deadline passes (fails)."""
    def wait(condition: Callable[[], Any], *, timeout: float = 10, message: str = 'condition') -> Any:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f'timed out after {timeout}s waiting for {message}')
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    return wait

