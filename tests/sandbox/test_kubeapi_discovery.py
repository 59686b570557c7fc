"""
Discovery and CRDs: a CRD posted over HTTP makes its resource discoverable and usable
(the kubernetes client, pykube); removing the CRD withdraws it.
"""
import json
import pathlib
import urllib.error
import urllib.request

import kubernetes.client
import pykube
import pytest

from dtk_sandbox.kubeapi import load_crds

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
PROJECT_CRDS = pathlib.Path(__file__).parents[2] / 'crds'


def fetch(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_posted_crd_is_established_and_discoverable(api, k8s, widgets_crd):
    crd = kubernetes.client.ApiextensionsV1Api(k8s).create_custom_resource_definition(widgets_crd)
    assert {c.type: c.status for c in crd.status.conditions} == {'NamesAccepted': 'True', 'Established': 'True'}
    _, groups = fetch(f'{api.url}/apis')
    example = next(group for group in groups['groups'] if group['name'] == GROUP)
    assert example['preferredVersion'] == {'groupVersion': 'example.io/v1', 'version': 'v1'}
    _, group = fetch(f'{api.url}/apis/{GROUP}/')  # a trailing slash, as pykube sends it
    assert group['kind'] == 'APIGroup'
    _, resources = fetch(f'{api.url}/apis/{GROUP}/{VERSION}/')
    by_name = {resource['name']: resource for resource in resources['resources']}
    assert by_name['widgets'] == {
        'name': 'widgets', 'singularName': 'widget', 'namespaced': True, 'kind': 'Widget',
        'verbs': ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        'shortNames': ['wd'], 'categories': ['demo'],
    }
    assert by_name['widgets/status']['verbs'] == ['get', 'patch', 'update']


def test_core_discovery_serves_what_kopf_needs(api):
    assert fetch(f'{api.url}/api')[1]['versions'] == ['v1']
    _, core = fetch(f'{api.url}/api/v1')
    namespaces = next(resource for resource in core['resources'] if resource['name'] == 'namespaces')
    assert (namespaces['namespaced'], namespaces['kind']) == (False, 'Namespace')
    assert {'events', 'secrets', 'configmaps'} <= {resource['name'] for resource in core['resources']}
    assert {g['name'] for g in fetch(f'{api.url}/apis')[1]['groups']} >= {
        'events.k8s.io', 'coordination.k8s.io', 'apiextensions.k8s.io'}
    assert fetch(f'{api.url}/version')[1]['gitVersion'].startswith('v1.32')


def test_unknown_paths_and_resources_are_404_statuses(api):
    for path in ('/apis/nope.io/v1', '/apis/example.io/v1/namespaces/default/widgets', '/whatever'):
        code, status = fetch(api.url + path)
        assert (code, status['kind'], status['reason']) == (404, 'Status', 'NotFound')


def test_an_invalid_crd_is_refused_with_422(k8s, widgets_crd):
    widgets_crd['metadata']['name'] = 'wrong.example.io'
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        kubernetes.client.ApiextensionsV1Api(k8s).create_custom_resource_definition(widgets_crd)
    assert excinfo.value.status == 422


def test_deleting_a_crd_withdraws_the_resource_and_its_objects(api, k8s, custom, widgets):
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, {'metadata': {'name': 'w1'}})
    kubernetes.client.ApiextensionsV1Api(k8s).delete_custom_resource_definition('widgets.example.io')
    assert fetch(f'{api.url}/apis/{GROUP}/{VERSION}')[0] == 404
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL)
    assert excinfo.value.status == 404


def test_versions_of_a_crd_share_their_objects(custom, k8s, widgets_crd):
    v1beta1 = {**widgets_crd['spec']['versions'][0], 'name': 'v1beta1', 'storage': False}
    widgets_crd['spec']['versions'].append(v1beta1)
    kubernetes.client.ApiextensionsV1Api(k8s).create_custom_resource_definition(widgets_crd)
    custom.create_namespaced_custom_object(GROUP, 'v1', 'default', PLURAL, {'metadata': {'name': 'w1'}})
    seen = custom.get_namespaced_custom_object(GROUP, 'v1beta1', 'default', PLURAL, 'w1')
    assert seen['apiVersion'] == 'example.io/v1beta1'


def test_pykube_discovers_creates_lists_and_watches(kubeconfig, widgets):
    client = pykube.HTTPClient(pykube.KubeConfig.from_file(str(kubeconfig)))
    widget_class = pykube.object_factory(client, 'example.io/v1', 'Widget')
    widget_class(client, {'apiVersion': 'example.io/v1', 'kind': 'Widget',
                          'metadata': {'name': 'w1', 'namespace': 'default'}, 'spec': {'size': 1}}).create()
    found = widget_class.objects(client, namespace='default').get(name='w1')
    found.obj['spec']['size'] = 2
    found.update()
    assert [w.obj['spec'] for w in widget_class.objects(client).filter(namespace=pykube.all)] == [{'size': 2}]
    stream = widget_class.objects(client, namespace='default').watch().object_stream()
    event = next(iter(stream))
    assert (event.type, event.object.name) == ('ADDED', 'w1')
    assert client.version == ('1', '32')


def test_install_crds_loads_every_crd_of_a_directory(api, crd_dir):
    (crd_dir / 'notes.yaml').write_text('kind: ConfigMap\napiVersion: v1\nmetadata: {name: not-a-crd}\n')
    assert [crd['metadata']['name'] for crd in load_crds(crd_dir)] == ['widgets.example.io']
    assert api.install_crds(crd_dir) == ['widgets.example.io']
    assert api.install_crds(crd_dir) == ['widgets.example.io']  # again: replaced, not refused
    assert fetch(f'{api.url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}')[1]['kind'] == 'WidgetList'


@pytest.mark.skipif(not list(PROJECT_CRDS.glob('*.y*ml')), reason='the project CRDs are not written yet')
def test_the_project_crds_install_and_serve_their_resources(api):
    names = api.install_crds(PROJECT_CRDS)
    assert names
    for crd in load_crds(PROJECT_CRDS):
        spec = crd['spec']
        version = next(v['name'] for v in spec['versions'] if v.get('served', True))
        scope = 'namespaces/default/' if spec['scope'] == 'Namespaced' else ''
        listed = fetch(f'{api.url}/apis/{spec["group"]}/{version}/{scope}{spec["names"]["plural"]}')[1]
        assert listed['kind'] == f'{spec["names"]["kind"]}List'
