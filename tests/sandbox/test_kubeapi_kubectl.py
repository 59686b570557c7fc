"""
Real kubectl (a subprocess with --kubeconfig) against the emulator.
"""
import json
import pathlib
import subprocess

import pytest
import yaml

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
MERGE = 'application/merge-patch+json'
pytestmark = pytest.mark.usefixtures('widgets')


@pytest.fixture
def w1(custom, widgets):
    """A widget with a status, so that the printer columns have something to print."""
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, {
        'apiVersion': 'example.io/v1', 'kind': 'Widget', 'metadata': {'name': 'w1'}, 'spec': {'size': 3}})
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, 'default', PLURAL, 'w1', {'status': {
        'phase': 'Running', 'conditions': [{'type': 'Ready', 'status': 'True'}]}}, _content_type=MERGE)


@pytest.fixture
def background(kubeconfig, tmp_path):
    """Start kubectl in the background, its output to a file; killed at the end of the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> tuple[subprocess.Popen[bytes], pathlib.Path]:
        output = tmp_path / f'background-{len(processes)}.out'
        command = ['kubectl', f'--kubeconfig={kubeconfig}', f'--cache-dir={tmp_path / "kubectl-cache"}', *args]
        with output.open('wb') as file:
            processes.append(subprocess.Popen(command, stdout=file, stderr=subprocess.STDOUT))
        return processes[-1], output

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=10)


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


@pytest.mark.usefixtures('w1')
@pytest.mark.parametrize('name', ['widgets', 'widget', 'wd', 'demo', 'widgets.example.io'])
def test_get_prints_the_printer_columns_by_any_name(kubectl, name):
    printed = rows(kubectl('get', name).stdout)
    assert printed[0] == ['NAME', 'PHASE', 'READY', 'SIZE', 'AGE']
    assert printed[1][:4] == ['w1', 'Running', 'True', '3']
    assert printed[1][4].endswith('s')  # an age such as "0s"


@pytest.mark.usefixtures('w1')
def test_get_all_namespaces_adds_the_namespace_column(kubectl):
    assert rows(kubectl('get', 'widgets', '-A').stdout)[1][:2] == ['default', 'w1']


@pytest.mark.usefixtures('w1')
def test_get_as_json_and_yaml(kubectl):
    one = json.loads(kubectl('get', 'widget', 'w1', '-o', 'json').stdout)
    assert (one['kind'], one['spec'], one['status']['phase']) == ('Widget', {'size': 3}, 'Running')
    many = yaml.safe_load(kubectl('get', 'widgets', '-o', 'yaml').stdout)
    assert [item['metadata']['name'] for item in many['items']] == ['w1']


@pytest.mark.usefixtures('w1')
def test_get_watch_prints_changes_as_they_happen(custom, background, wait_until):
    process, output = background('get', 'widgets', '-w')
    wait_until(lambda: 'w1' in output.read_text(), message='the initial listing')
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, 'default', PLURAL, 'w1',
                                                 {'status': {'phase': 'Finished'}}, _content_type=MERGE)
    wait_until(lambda: 'Finished' in output.read_text(), message='the change printed by get -w')
    assert process.poll() is None  # still watching until killed


def test_apply_creates_then_updates_with_a_three_way_merge(kubectl, custom, tmp_path):
    manifest = tmp_path / 'w.yaml'
    body = {'apiVersion': 'example.io/v1', 'kind': 'Widget', 'metadata': {'name': 'w2'},
            'spec': {'size': 1, 'colour': 'red'}}
    manifest.write_text(yaml.safe_dump(body))
    assert 'created' in kubectl('apply', '--validate=false', '-f', str(manifest)).stdout
    body['spec'] = {'size': 2}  # `colour` removed from the manifest: apply must remove it
    manifest.write_text(yaml.safe_dump(body))
    assert 'configured' in kubectl('apply', '--validate=false', '-f', str(manifest)).stdout
    applied = custom.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w2')
    assert applied['spec'] == {'size': 2}
    assert applied['metadata']['generation'] == 2
    assert 'kubectl.kubernetes.io/last-applied-configuration' in applied['metadata']['annotations']
    assert 'unchanged' in kubectl('apply', '--validate=false', '-f', str(manifest)).stdout
    assert 'unchanged' in kubectl('apply', '-f', str(manifest)).stdout  # with validation, too


def test_apply_with_default_validation_and_get_built_in_kinds(kubectl, core, tmp_path):
    manifest = tmp_path / 'cm.yaml'
    body = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c1'}, 'data': {'a': '1', 'b': '2'}}
    manifest.write_text(yaml.safe_dump(body))
    kubectl('apply', '-f', str(manifest))  # default validation: the server is asked to validate (OpenAPI v3)
    body['data'] = {'a': '3'}
    manifest.write_text(yaml.safe_dump(body))
    result = kubectl('apply', '-f', str(manifest))  # a strategic merge patch for built-in kinds
    assert result.stderr == ''  # no warning about OpenAPI or patch computation
    assert core.read_namespaced_config_map('c1', 'default').data == {'a': '3'}
    assert rows(kubectl('get', 'configmaps').stdout)[1][0] == 'c1'
    assert [row[:2] for row in rows(kubectl('get', 'namespaces').stdout)[1:]] == [
        ['default', 'Active'], ['kube-system', 'Active']]


@pytest.mark.usefixtures('w1')
def test_patch_with_a_merge_patch(kubectl, custom):
    kubectl('patch', 'widget', 'w1', '--type=merge', '-p', '{"spec": {"size": 5}}')
    assert custom.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1')['spec'] == {'size': 5}


@pytest.mark.usefixtures('w1')
def test_delete_without_waiting_leaves_a_finalized_object_terminating(kubectl, custom):
    kubectl('patch', 'widget', 'w1', '--type=merge', '-p', '{"metadata": {"finalizers": ["example.io/f"]}}')
    assert 'deleted' in kubectl('delete', 'widget', 'w1', '--wait=false').stdout
    held = custom.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1')
    assert held['metadata']['deletionTimestamp']


@pytest.mark.usefixtures('w1')
def test_delete_waits_until_the_object_is_gone(kubectl, background, wait_until):
    kubectl('patch', 'widget', 'w1', '--type=merge', '-p', '{"metadata": {"finalizers": ["example.io/f"]}}')
    deleting, _ = background('delete', 'widget', 'w1', '--timeout=20s')
    wait_until(lambda: 'deletionTimestamp' in kubectl('get', 'widget', 'w1', '-o', 'yaml').stdout)
    assert deleting.poll() is None  # still waiting: the finalizer holds the object
    kubectl('patch', 'widget', 'w1', '--type=merge', '-p', '{"metadata": {"finalizers": null}}')
    assert deleting.wait(timeout=20) == 0
    assert kubectl('get', 'widgets', '-o', 'name').stdout == ''


def test_wait_for_a_condition_and_for_deletion(kubectl, custom, background):
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, {
        'metadata': {'name': 'w3', 'finalizers': ['example.io/f']}})
    ready, ready_output = background('wait', '--for=condition=Ready', 'widget/w3', '--timeout=10s')
    gone, gone_output = background('wait', '--for=delete', 'widget/w3', '--timeout=10s')
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, 'default', PLURAL, 'w3', {'status': {
        'conditions': [{'type': 'Ready', 'status': 'True'}]}}, _content_type=MERGE)
    assert ready.wait(timeout=15) == 0, ready_output.read_text()
    assert 'condition met' in ready_output.read_text()
    custom.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w3')
    custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w3',
                                          {'metadata': {'finalizers': None}}, _content_type=MERGE)
    assert gone.wait(timeout=15) == 0, gone_output.read_text()


PROJECT_CRDS = pathlib.Path(__file__).parents[2] / 'crds'


@pytest.mark.skipif(not list(PROJECT_CRDS.glob('*.y*ml')), reason='the project CRDs are not written yet')
def test_the_project_category_is_known_to_kubectl(api, kubectl):
    # Installed before kubectl's first call: kubectl caches discovery, and does not refresh it for
    # an unknown category (it does for unknown resource names), as with a real cluster.
    api.install_crds(PROJECT_CRDS)
    assert 'No resources found' in kubectl('get', 'dtk').stderr
    assert 'error: the server doesn\'t have a resource type "nope"' in kubectl('get', 'nope', check=False).stderr
