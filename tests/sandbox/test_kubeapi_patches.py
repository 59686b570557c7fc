"""
The patch formats, through the official kubernetes client: JSON patch, merge patch, strategic merge
(built-in kinds only).
"""
import json
import urllib.error
import urllib.request

import kubernetes.client
import pytest

from support.widgets import GROUP, PLURAL, VERSION, create, get, merge, widget

JSON_PATCH = 'application/json-patch+json'
pytestmark = pytest.mark.usefixtures('widgets')


def test_json_patch_applies_and_a_failed_test_op_is_422(custom):
    rv = create(custom, widget('w1', size=1))['metadata']['resourceVersion']
    ok = [{'op': 'test', 'path': '/metadata/resourceVersion', 'value': rv},
          {'op': 'add', 'path': '/metadata/finalizers', 'value': ['example.io/f']}]
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', ok,
                                                    _content_type=JSON_PATCH)
    assert patched['metadata']['finalizers'] == ['example.io/f']
    with pytest.raises(kubernetes.client.ApiException) as excinfo:  # the same test op, now stale
        custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', ok, _content_type=JSON_PATCH)
    assert excinfo.value.status == 422
    assert get(custom, 'w1')['metadata']['finalizers'] == ['example.io/f']


def test_merge_patch_follows_rfc_7386(custom):
    create(custom, widget('w1', nested={'a': 1, 'b': 2}, keep=True, items=[1, 2]))
    patched = merge(custom, 'w1', {'spec': {'nested': {'a': None, 'c': 3}, 'items': [3], 'keep': None}})
    assert patched['spec'] == {'nested': {'b': 2, 'c': 3}, 'items': [3]}
    patched = merge(custom, 'w1', {'spec': {'nested': 'scalar'}})  # a dict replaced by a scalar
    assert patched['spec']['nested'] == 'scalar'


def test_strategic_merge_is_refused_for_custom_resources_as_a_real_server_does(custom):
    create(custom, widget('w1', items=[{'name': 'a'}]))
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1',
                                              {'spec': {'items': [{'name': 'b'}]}},
                                              _content_type='application/strategic-merge-patch+json')
    assert excinfo.value.status == 415
    assert json.loads(excinfo.value.body)['message'] == (
        'the body of the request was in an unknown format - accepted media types include: '
        'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml')
    assert get(custom, 'w1')['spec']['items'] == [{'name': 'a'}]


def test_strategic_merge_merges_lists_by_key_for_built_in_kinds(core):
    refs = [{'apiVersion': 'v1', 'kind': 'ConfigMap', 'name': 'o1', 'uid': 'u1'}]
    core.create_namespaced_config_map('default', {'metadata': {'name': 'c1', 'finalizers': ['a/x'],
                                                               'ownerReferences': refs}, 'data': {'k1': 'v1'}})
    patch = {'metadata': {'finalizers': ['b/y'], 'ownerReferences': [{**refs[0], 'uid': 'u2', 'name': 'o2'}]},
             'data': {'k2': 'v2'}}
    result = core.patch_namespaced_config_map('c1', 'default', patch,
                                              _content_type='application/strategic-merge-patch+json')
    assert result.metadata.finalizers == ['a/x', 'b/y']
    assert [ref.uid for ref in result.metadata.owner_references] == ['u1', 'u2']
    assert result.data == {'k1': 'v1', 'k2': 'v2'}
    directive = {'metadata': {'$deleteFromPrimitiveList/finalizers': ['a/x']}}
    result = core.patch_namespaced_config_map('c1', 'default', directive,
                                              _content_type='application/strategic-merge-patch+json')
    assert result.metadata.finalizers == ['b/y']


def test_json_patch_operations_on_objects_and_arrays(custom):
    create(custom, widget('w1', items=['a', 'b'], old='x'))
    operations = [
        {'op': 'add', 'path': '/spec/items/1', 'value': 'inserted'},
        {'op': 'add', 'path': '/spec/items/-', 'value': 'last'},
        {'op': 'replace', 'path': '/spec/items/0', 'value': 'first'},
        {'op': 'move', 'from': '/spec/old', 'path': '/spec/new'},
        {'op': 'copy', 'from': '/spec/new', 'path': '/spec/copied'},
        {'op': 'remove', 'path': '/spec/items/2'},
    ]
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', operations,
                                                    _content_type=JSON_PATCH)
    assert patched['spec'] == {'items': ['first', 'inserted', 'last'], 'new': 'x', 'copied': 'x'}
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1',
                                              [{'op': 'remove', 'path': '/spec/missing'}], _content_type=JSON_PATCH)
    assert excinfo.value.status == 422


def test_a_json_patch_that_is_not_a_list_is_400(api, custom):
    create(custom, widget('w1'))
    # Raw HTTP: the kubernetes client itself rewrites such a request into a strategic merge patch.
    request = urllib.request.Request(f'{api.url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}/w1',
                                     data=b'{"spec": {}}', method='PATCH', headers={'Content-Type': JSON_PATCH})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    assert excinfo.value.code == 400
