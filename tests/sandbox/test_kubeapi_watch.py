"""
Watch streams, as the kubernetes client's Watch and a raw HTTP reader see them.
"""
import json
import urllib.request

import kubernetes.client
import kubernetes.config
import kubernetes.watch
import pytest

from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
MERGE = 'application/merge-patch+json'
pytestmark = pytest.mark.usefixtures('widgets')


def widget(name: str, **labels: str) -> dict[str, object]:
    return {'apiVersion': 'example.io/v1', 'kind': 'Widget', 'metadata': {'name': name, 'labels': labels}}


def events(custom: kubernetes.client.CustomObjectsApi, *, count: int, cluster: bool = False, **kwargs: object):
    """The first `count` events (type, name) of a watch; fails if the stream ends before (timeout 3 s)."""
    watch = kubernetes.watch.Watch()
    fn, args = ((custom.list_cluster_custom_object, (GROUP, VERSION, PLURAL)) if cluster else
                (custom.list_namespaced_custom_object, (GROUP, VERSION, 'default', PLURAL)))
    seen = []
    for event in watch.stream(fn, *args, timeout_seconds=3, **kwargs):
        seen.append((event['type'], event['object']['metadata']['name']))
        if len(seen) == count:
            watch.stop()
    return seen


def raw_lines(url: str, *, timeout: float = 5) -> tuple[str, list[dict]]:
    """Read a whole watch response (it must end by itself); returns its content type and events."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.headers['Content-Type'], [json.loads(line) for line in response.read().splitlines()]


def test_a_watch_from_a_list_resource_version_sees_every_later_change(custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w0'))
    rv = custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL)['metadata']['resourceVersion']
    # Changes between the list and the watch must not be lost: they come from the history.
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w1'))
    custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w1', {'spec': {'a': 1}})
    custom.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w0')
    assert events(custom, count=3, resource_version=rv) == [('ADDED', 'w1'), ('MODIFIED', 'w1'), ('DELETED', 'w0')]


def test_a_watch_without_resource_version_starts_with_the_current_state(custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w1'))
    assert events(custom, count=1) == [('ADDED', 'w1')]


def test_selectors_apply_to_events_as_objects_enter_and_leave_them(custom):
    rv = custom.list_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL)['metadata']['resourceVersion']
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w1', app='a'))
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w2', app='b'))
    for name, app in [('w1', 'b'), ('w2', 'a')]:
        relabel = {'metadata': {'labels': {'app': app}}}
        custom.patch_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, name, relabel)
    seen = events(custom, count=3, resource_version=rv, label_selector='app=a')
    assert seen == [('ADDED', 'w1'), ('DELETED', 'w1'), ('ADDED', 'w2')]


def test_cluster_wide_watches_see_all_namespaces(custom, core):
    core.create_namespace({'metadata': {'name': 'other'}})
    rv = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)['metadata']['resourceVersion']
    custom.create_namespaced_custom_object(GROUP, VERSION, 'other', PLURAL, widget('w1'))
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w2'))
    assert events(custom, count=2, cluster=True, resource_version=rv) == [('ADDED', 'w1'), ('ADDED', 'w2')]


def test_namespaced_watches_see_only_their_namespace(custom, core):
    core.create_namespace({'metadata': {'name': 'other'}})
    rv = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)['metadata']['resourceVersion']
    custom.create_namespaced_custom_object(GROUP, VERSION, 'other', PLURAL, widget('w1'))
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w2'))
    assert events(custom, count=1, resource_version=rv) == [('ADDED', 'w2')]


def test_watch_streams_are_json_lines_that_end_after_timeout_seconds(api, custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w1'))
    url = f'{api.url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}?watch=1&timeoutSeconds=1'
    content_type, lines = raw_lines(url)  # returns only because the server ends the stream
    assert content_type.startswith('application/json')
    assert [(line['type'], line['object']['metadata']['name']) for line in lines] == [('ADDED', 'w1')]


def test_initial_events_end_with_a_bookmark_when_asked(api, custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w1'))
    url = (f'{api.url}/apis/{GROUP}/{VERSION}/{PLURAL}?watch=true&sendInitialEvents=true'
           f'&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1')
    _, lines = raw_lines(url)
    assert [line['type'] for line in lines] == ['ADDED', 'BOOKMARK']
    assert lines[1]['object']['metadata']['annotations'] == {'k8s.io/initial-events-end': 'true'}


def test_a_watch_from_a_forgotten_resource_version_is_410_expired(tmp_path):
    with ServedApi(KubeApiEmulator(history_limit=3)) as api:
        client = kubernetes.config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / 'kc', api.url)))
        core = kubernetes.client.CoreV1Api(client)
        rv = core.list_namespaced_config_map('default').metadata.resource_version
        for index in range(5):
            core.create_namespaced_config_map('default', {'metadata': {'name': f'c{index}'}})
        with pytest.raises(kubernetes.client.ApiException) as excinfo:
            list(kubernetes.watch.Watch().stream(core.list_namespaced_config_map, 'default',
                                                 resource_version=rv, timeout_seconds=3))
        assert excinfo.value.status == 410
        client.close()


def test_a_watch_of_one_object_by_name_or_by_the_watch_prefix(api, custom):
    for name in ('w1', 'w2'):
        custom.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget(name))
    for path in (f'namespaces/default/{PLURAL}/w2?watch=true', f'watch/namespaces/default/{PLURAL}/w2?'):
        _, lines = raw_lines(f'{api.url}/apis/{GROUP}/{VERSION}/{path}&timeoutSeconds=1')
        assert [(line['type'], line['object']['metadata']['name']) for line in lines] == [('ADDED', 'w2')]
