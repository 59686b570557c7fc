"""
A real kopf operator, as a subprocess (``python -m kopf run``), against the emulator over HTTP:
creation, update, a daemon, Events, deletion through a finalizer, and a restart.
"""
import os
import pathlib
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import kubernetes.client
import pytest

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
MERGE = 'application/merge-patch+json'
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures('widgets')]

OPERATOR = '''
import os
import pathlib

import kopf

URL = os.environ['KUBEAPI_URL']
MARKERS = pathlib.Path(os.environ['MARKERS'])


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.persistence.finalizer = 'example.io/finalizer'
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix='example.io')
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix='example.io', key='last-handled-configuration')


@kopf.on.login()
def login(**_):
    return kopf.ConnectionInfo(server=URL, insecure=True)


@kopf.on.create('example.io', 'v1', 'widgets')
def created(body, spec, status, patch, **_):
    kopf.info(body, reason='Created', message='The widget is created.')  # posted as an Event
    patch.status['creations'] = status.get('creations', 0) + 1
    patch.status['size'] = spec.get('size')


@kopf.on.update('example.io', 'v1', 'widgets', field='spec.size')
def updated(body, new, patch, **_):
    kopf.info(body, reason='Resized', message=f'The widget is resized to {new}.')
    patch.status['size'] = new


@kopf.daemon('example.io', 'v1', 'widgets')
async def ticking(name, stopped, **_):
    (MARKERS / f'daemon-{name}').touch()
    await stopped.wait()


@kopf.on.delete('example.io', 'v1', 'widgets')
def deleted(name, **_):
    (MARKERS / f'deleted-{name}').touch()
'''


@pytest.fixture
def markers(tmp_path: pathlib.Path) -> pathlib.Path:
    directory = tmp_path / 'markers'
    directory.mkdir()
    return directory


@pytest.fixture
def run_kopf(api, tmp_path: pathlib.Path, markers: pathlib.Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `kopf run` on the test operator; every started process is stopped at the end."""
    source = tmp_path / 'widget_operator.py'
    source.write_text(OPERATOR)
    env = {**os.environ, 'KUBEAPI_URL': api.url, 'MARKERS': str(markers)}
    env.pop('KUBECONFIG', None)
    processes: list[subprocess.Popen[bytes]] = []

    def start(*options: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f'kopf-{len(processes)}.log').open('wb')
        command = [sys.executable, '-m', 'kopf', 'run', '--standalone', '--verbose', *options, str(source)]
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        log.close()
        return processes[-1]

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def widget(custom, name: str, ns: str = 'default') -> dict:
    return custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)


def status_of(custom, name: str, ns: str = 'default') -> dict:
    try:
        return widget(custom, name, ns).get('status') or {}
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return {}
        raise


def is_gone(custom, name: str) -> bool:
    try:
        widget(custom, name)
    except kubernetes.client.ApiException as error:
        return error.status == 404
    return False


def test_kopf_handles_the_whole_lifecycle_and_survives_a_restart(run_kopf, custom, core, markers, wait_until):
    first = run_kopf('--namespace', 'default')
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL,
                                           {'metadata': {'name': 'w1'}, 'spec': {'size': 1}})
    wait_until(lambda: status_of(custom, 'w1').get('size') == 1, timeout=20, message='on.create')
    assert widget(custom, 'w1')['metadata']['finalizers'] == ['example.io/finalizer']
    wait_until(lambda: (markers / 'daemon-w1').exists(), message='the daemon')

    custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', {'spec': {'size': 2}},
                                          _content_type=MERGE)
    wait_until(lambda: status_of(custom, 'w1').get('size') == 2, message='on.update')

    def kopf_events() -> list[str]:
        items = core.list_namespaced_event('default', field_selector='involvedObject.name=w1').items
        return sorted(event.reason for event in items if event.metadata.name.startswith('kopf-event-'))
    wait_until(lambda: kopf_events() == ['Created', 'Resized'], message='two Events with generated names')

    first.kill()  # a crash, not a graceful exit
    first.wait(timeout=10)
    run_kopf('--namespace', 'default')
    custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', {'spec': {'size': 3}},
                                          _content_type=MERGE)
    wait_until(lambda: status_of(custom, 'w1').get('size') == 3, timeout=20, message='on.update after a restart')
    assert status_of(custom, 'w1')['creations'] == 1  # resumed, not re-created

    custom.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1')
    wait_until(lambda: is_gone(custom, 'w1'), message='the finalizer released by kopf')
    assert (markers / 'deleted-w1').exists()


def test_kopf_serves_all_namespaces(run_kopf, custom, core, wait_until):
    core.create_namespace({'metadata': {'name': 'other'}})
    run_kopf('--all-namespaces')
    custom.create_namespaced_custom_object(GROUP, VERSION, 'other', PLURAL,
                                           {'metadata': {'name': 'w2'}, 'spec': {'size': 7}})
    wait_until(lambda: status_of(custom, 'w2', 'other').get('size') == 7, timeout=20, message='on.create')
