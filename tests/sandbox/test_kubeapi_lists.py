"""
Lists through the official kubernetes client: kinds, resourceVersions, selectors, pagination.
"""
import json
import urllib.request

import kubernetes.client
import pytest

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
pytestmark = pytest.mark.usefixtures('widgets')


def widget(name: str, **spec: object) -> dict[str, object]:
    return {'apiVersion': 'example.io/v1', 'kind': 'Widget', 'metadata': {'name': name}, 'spec': dict(spec)}


def create(custom: kubernetes.client.CustomObjectsApi, body: dict[str, object], ns: str = 'default') -> dict:
    return custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)


def test_lists_carry_their_kind_and_resource_version(custom, core):
    created = create(custom, widget('w1'))
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL)
    assert (listed['kind'], listed['apiVersion']) == ('WidgetList', 'example.io/v1')
    assert int(listed['metadata']['resourceVersion']) >= int(created['metadata']['resourceVersion'])
    assert [item['metadata']['name'] for item in listed['items']] == ['w1']
    assert core.list_namespace().metadata.resource_version


@pytest.mark.parametrize(('selector', 'expected'), [
    ('app=a', ['w1', 'w2']),
    ('app==a,tier=web', ['w1']),
    ('app!=a', ['w3', 'w4']),
    ('app in (a, b)', ['w1', 'w2', 'w3']),
    ('app notin (a)', ['w3', 'w4']),
    ('tier', ['w1', 'w3']),
    ('!tier', ['w2', 'w4']),
])
def test_label_selectors(custom, selector, expected):
    labels = {'w1': {'app': 'a', 'tier': 'web'}, 'w2': {'app': 'a'}, 'w3': {'app': 'b', 'tier': 'db'}, 'w4': {}}
    for name, object_labels in labels.items():
        create(custom, {**widget(name), 'metadata': {'name': name, 'labels': object_labels}})
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, label_selector=selector)
    assert [item['metadata']['name'] for item in listed['items']] == expected


def test_field_selectors_and_cluster_wide_lists(custom, core):
    core.create_namespace({'metadata': {'name': 'other'}})
    create(custom, widget('w1'))
    create(custom, widget('w2'), ns='other')
    everywhere = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert [(i['metadata']['namespace'], i['metadata']['name']) for i in everywhere['items']] == [
        ('default', 'w1'), ('other', 'w2')]
    by_name = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, field_selector='metadata.name=w2')
    assert [item['metadata']['name'] for item in by_name['items']] == ['w2']
    by_ns = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, field_selector='metadata.namespace!=other')
    assert [item['metadata']['name'] for item in by_ns['items']] == ['w1']


def test_lists_are_paginated_with_limit_and_continue(custom):
    for index in range(5):
        create(custom, widget(f'w{index}'))
    names, token = [], None
    while True:
        page = custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, limit=2,
                                                    **({'_continue': token} if token else {}))
        names += [item['metadata']['name'] for item in page['items']]
        token = page['metadata'].get('continue')
        if not token:
            break
    assert names == ['w0', 'w1', 'w2', 'w3', 'w4']


def test_metadata_only_lists_when_asked(api, custom):
    create(custom, widget('w1', secret='not for metadata readers'))
    request = urllib.request.Request(f'{api.url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}', headers={
        'Accept': 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json'})
    with urllib.request.urlopen(request, timeout=5) as response:
        listed = json.loads(response.read())
    assert listed['kind'] == 'PartialObjectMetadataList'
    assert [(item['kind'], item['metadata']['name']) for item in listed['items']] == [('PartialObjectMetadata', 'w1')]
    assert 'spec' not in listed['items'][0]
