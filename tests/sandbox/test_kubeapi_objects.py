"""
Object realism through the official kubernetes client: what a client sees on create, read,
replace and delete, including the errors and their Status bodies.
"""
import json
import re
import urllib.error
import urllib.request

import kubernetes.client
import pytest

from support.widgets import GROUP, PLURAL, VERSION, create, get, merge, widget

pytestmark = pytest.mark.usefixtures('widgets')


def api_error(excinfo: pytest.ExceptionInfo[kubernetes.client.ApiException]) -> dict:
    return json.loads(excinfo.value.body)


def test_create_answers_201_with_the_server_fields_stamped(custom):
    body, code, _ = custom.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, 'default', PLURAL, widget('w1', size=1))
    assert code == 201
    meta = body['metadata']
    assert re.fullmatch(r'[0-9a-f-]{36}', meta['uid'])
    assert meta['resourceVersion'].isdigit()
    assert meta['generation'] == 1
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', meta['creationTimestamp'])
    assert meta['namespace'] == 'default'
    assert get(custom, 'w1') == body


def test_resource_versions_come_from_one_increasing_counter(custom, core):
    first = create(custom, widget('w1'))['metadata']['resourceVersion']
    second = core.create_namespaced_config_map('default', {'metadata': {'name': 'c1'}}).metadata.resource_version
    third = merge(custom, 'w1', {'spec': {'size': 2}})['metadata']['resourceVersion']
    assert int(first) < int(second) < int(third)


def test_generate_name_gives_distinct_names_with_the_prefix(custom):
    bodies = [create(custom, {'metadata': {'generateName': 'w-'}, 'spec': {}}) for _ in range(3)]
    names = {body['metadata']['name'] for body in bodies}
    assert len(names) == 3
    assert all(re.fullmatch(r'w-[a-z0-9]{5}', name) for name in names)


def test_a_duplicate_name_is_409_already_exists(custom):
    create(custom, widget('w1'))
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        create(custom, widget('w1'))
    assert excinfo.value.status == 409
    assert api_error(excinfo)['reason'] == 'AlreadyExists'


def test_a_missing_object_is_404_with_a_status_body(custom):
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        get(custom, 'nope')
    assert excinfo.value.status == 404
    status = api_error(excinfo)
    assert (status['kind'], status['apiVersion'], status['reason'], status['code']) == ('Status', 'v1', 'NotFound', 404)
    assert status['message'] == 'widgets.example.io "nope" not found'


def test_a_write_with_a_stale_resource_version_is_409_conflict(custom):
    stale = create(custom, widget('w1', size=1))
    merge(custom, 'w1', {'spec': {'size': 2}})
    for write in (
        lambda: custom.replace_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', stale),
        lambda: merge(custom, 'w1', {'metadata': {'resourceVersion': stale['metadata']['resourceVersion']}}),
    ):
        with pytest.raises(kubernetes.client.ApiException) as excinfo:
            write()
        assert excinfo.value.status == 409
        assert api_error(excinfo)['reason'] == 'Conflict'
    assert get(custom, 'w1')['spec'] == {'size': 2}


def test_put_replaces_the_whole_object(custom):
    body = create(custom, widget('w1', size=1, extra='x'))
    body['spec'] = {'size': 2}
    replaced = custom.replace_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', body)
    assert replaced['spec'] == {'size': 2}
    assert replaced['metadata']['uid'] == body['metadata']['uid']


def test_generation_counts_changes_outside_metadata_and_status(custom):
    create(custom, widget('w1', size=1))
    assert merge(custom, 'w1', {'metadata': {'labels': {'a': 'b'}}})['metadata']['generation'] == 1
    assert merge(custom, 'w1', {'status': {'phase': 'Up'}}, status=True)['metadata']['generation'] == 1
    assert merge(custom, 'w1', {'spec': {'size': 2}})['metadata']['generation'] == 2


def test_a_write_that_changes_nothing_keeps_the_resource_version(custom):
    rv = create(custom, widget('w1', size=1))['metadata']['resourceVersion']
    assert merge(custom, 'w1', {'spec': {'size': 1}})['metadata']['resourceVersion'] == rv


def test_the_status_subresource_is_written_separately(custom):
    created = create(custom, {**widget('w1', size=1), 'status': {'phase': 'ignored'}})
    assert 'status' not in created  # status is only written through /status, even at creation
    main = merge(custom, 'w1', {'spec': {'size': 2}, 'status': {'phase': 'ignored'}})
    assert 'status' not in main and main['spec'] == {'size': 2}
    status = merge(custom, 'w1', {'spec': {'size': 3}, 'status': {'phase': 'Up'}}, status=True)
    assert status['status'] == {'phase': 'Up'} and status['spec'] == {'size': 2}
    fetched = custom.get_namespaced_custom_object_status(GROUP, VERSION, 'default', PLURAL, 'w1')
    assert fetched['status'] == {'phase': 'Up'}


def test_finalizers_hold_a_deleted_object_until_they_are_removed(custom):
    create(custom, {**widget('w1'), 'metadata': {'name': 'w1', 'finalizers': ['example.io/f']}})
    deleted = custom.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1')
    assert deleted['metadata']['deletionTimestamp']
    assert get(custom, 'w1')['metadata']['deletionTimestamp'] == deleted['metadata']['deletionTimestamp']
    with pytest.raises(kubernetes.client.ApiException) as excinfo:  # no new finalizers while terminating
        merge(custom, 'w1', {'metadata': {'finalizers': ['example.io/f', 'example.io/g']}})
    assert excinfo.value.status == 422
    merge(custom, 'w1', {'metadata': {'finalizers': None}})
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        get(custom, 'w1')
    assert excinfo.value.status == 404


def test_objects_need_an_existing_namespace(custom, core):
    assert {ns.metadata.name for ns in core.list_namespace().items} == {'default', 'kube-system'}
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        create(custom, widget('w1'), ns='elsewhere')
    assert excinfo.value.status == 404
    assert api_error(excinfo)['message'] == 'namespaces "elsewhere" not found'
    core.create_namespace({'metadata': {'name': 'elsewhere'}})
    assert create(custom, widget('w1'), ns='elsewhere')['metadata']['namespace'] == 'elsewhere'
    assert core.read_namespace('elsewhere').status.phase == 'Active'


def test_dry_run_answers_without_storing(custom):
    body, code, _ = custom.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, 'default', PLURAL, widget('w1'), dry_run='All')
    assert (code, body['metadata']['name']) == (201, 'w1')
    assert custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL)['items'] == []


def test_delete_preconditions_and_collections(custom):
    uid = create(custom, {**widget('w1'), 'metadata': {'name': 'w1', 'labels': {'app': 'a'}}})['metadata']['uid']
    create(custom, {**widget('w2'), 'metadata': {'name': 'w2', 'labels': {'app': 'a'}}})
    create(custom, widget('w3'))
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        custom.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1',
                                               body={'preconditions': {'uid': 'another-incarnation'}})
    assert excinfo.value.status == 409
    custom.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1',
                                           body={'preconditions': {'uid': uid}})
    custom.delete_collection_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, label_selector='app=a')
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL)
    assert [item['metadata']['name'] for item in listed['items']] == ['w3']


def test_cluster_scoped_objects_have_no_namespace(core):
    created = core.create_namespace({'metadata': {'name': 'ns1', 'namespace': 'ignored'}})
    assert created.metadata.namespace is None
    assert core.read_namespace('ns1').metadata.name == 'ns1'


def test_bodies_in_unsupported_formats_are_415(api):
    # Namespaces take protobuf (kubectl create namespace); other kinds do not.
    request = urllib.request.Request(f'{api.url}/api/v1/namespaces/default/configmaps', data=b'k8s\x00...',
                                     method='POST', headers={'Content-Type': 'application/vnd.kubernetes.protobuf'})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    assert excinfo.value.code == 415
    assert json.loads(excinfo.value.read())['reason'] == 'UnsupportedMediaType'
