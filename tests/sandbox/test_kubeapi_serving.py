"""
Serving: the threaded server, its kubeconfig, the command line, and kmock reactions on top.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import kmock
import kubernetes.client
import kubernetes.config
import pykube
import pytest
import yaml

from dtk_sandbox.kubeapi import ServedApi, write_kubeconfig


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_the_kubeconfig_is_accepted_by_the_python_clients(api, tmp_path):
    path = write_kubeconfig(tmp_path / 'kc', api.url, namespace='kube-system')
    assert oct(path.stat().st_mode & 0o777) == '0o600'
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(path), client_configuration=configuration)
    assert configuration.host == api.url
    with kubernetes.config.new_client_from_config(config_file=str(path)) as client:
        assert kubernetes.client.VersionApi(client).get_code().git_version.startswith('v1.32')
    pykube_config = pykube.KubeConfig.from_file(str(path))
    assert pykube_config.namespace == 'kube-system'
    assert pykube.HTTPClient(pykube_config).version == ('1', '32')


def test_stop_ends_open_watches_and_frees_the_port(tmp_path):
    api = ServedApi()
    api.start()
    host, port = api.url.removeprefix('http://').split(':')
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request('GET', '/api/v1/namespaces?watch=true')
    response = connection.getresponse()
    assert json.loads(response.readline())['type'] == 'ADDED'  # the watch is streaming
    stopper = threading.Thread(target=api.stop)
    stopper.start()
    response.read()  # returns at the end of the stream; a hung watch would raise a timeout instead
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f'{api.url}/version', timeout=2)


def test_emulators_in_threads_are_independent_and_stop_in_any_order():
    first, second = ServedApi(), ServedApi()
    first.start()
    second.start()
    first.call(lambda: first.emulator.store.create(first.emulator.spec('', 'v1', 'namespaces'), None,
                                                   {'metadata': {'name': 'only-in-first'}}))
    names = {ns['metadata']['name'] for ns in get_json(f'{second.url}/api/v1/namespaces')['items']}
    assert names == {'default', 'kube-system'}
    first.stop()  # not in the reverse order of starting
    assert get_json(f'{second.url}/version')['major'] == '1'
    second.stop()


def test_the_command_line_serves_with_crds_and_writes_a_kubeconfig(tmp_path, crd_dir, wait_until):
    kubeconfig = tmp_path / 'kubeconfig'
    command = [sys.executable, '-m', 'dtk_sandbox.kubeapi', '--port', '0', '--kubeconfig', str(kubeconfig),
               '--crds', str(crd_dir), '--namespace', 'demo']
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(p) for p in sys.path if p])}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(kubeconfig.exists, message='the kubeconfig of the served API')
        url = yaml.safe_load(kubeconfig.read_text())['clusters'][0]['cluster']['server']
        widgets = get_json(f'{url}/apis/example.io/v1/namespaces/demo/widgets')
        assert widgets['kind'] == 'WidgetList'
        assert get_json(f'{url}/api/v1/namespaces/demo')['status']['phase'] == 'Active'
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=10)[0].decode()
    assert process.returncode == 0, output
    assert 'Serving the Kubernetes API emulator at http://127.0.0.1:' in output


@pytest.mark.usefixtures('widgets')
def test_kmock_reactions_take_precedence_for_fault_injection(api, custom):
    custom.create_namespaced_custom_object('example.io', 'v1', 'default', 'widgets', {'metadata': {'name': 'w1'}})
    api.emulator['patch', kmock.resource('example.io', 'v1', 'widgets')][:1] << 503
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        custom.patch_namespaced_custom_object('example.io', 'v1', 'default', 'widgets', 'w1', {'spec': {'a': 1}})
    assert excinfo.value.status == 503
    # The reaction is depleted after one request: the emulator serves again.
    patched = custom.patch_namespaced_custom_object('example.io', 'v1', 'default', 'widgets', 'w1', {'spec': {'a': 1}})
    assert patched['spec'] == {'a': 1}


def test_a_client_that_disconnects_ends_its_watch(api, wait_until):
    def watchers() -> int:
        return api.call(lambda: api.emulator.store.changes.watchers)
    host, port = api.url.removeprefix('http://').split(':')
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request('GET', '/api/v1/namespaces?watch=true')
    connection.getresponse().readline()
    assert watchers() == 1
    connection.close()
    wait_until(lambda: watchers() == 0, message='the watch to end after the client left')
