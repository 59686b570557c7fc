"""
RBAC in the emulator: Kubernetes' matching rules (dtk_sandbox.kubeapi.rbac), the log of who asked
for what, and roles enforced for chosen clients, over real HTTP with the kubernetes client.

The matching cases follow kube-apiserver's own (pkg/apis/rbac/v1/evaluation_helpers.go and the RBAC
authorizer's tests): a rule on `tasks` does not grant `tasks/status`, a named rule never grants a
create, a RoleBinding grants nothing outside its namespace, not even a list across all of them.
"""
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import kubernetes.client
import kubernetes.config
import pytest
from kubernetes.client.exceptions import ApiException

from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi
from dtk_sandbox.kubeapi.authorization import AccessLog
from dtk_sandbox.kubeapi.rbac import DISCOVERY, Access, Grant, Rule, allowed, denied, grants_for, unused, wildcards
from support.widgets import GROUP, PLURAL, VERSION, merge, widget

ACCOUNT = {'kind': 'ServiceAccount', 'name': 'op', 'namespace': 'ops'}


def role(kind: str, name: str, *rules: dict[str, Any], namespace: str = '') -> dict[str, Any]:
    meta = {'name': name, **({'namespace': namespace} if namespace else {})}
    return {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': kind, 'metadata': meta, 'rules': list(rules)}


def binding(kind: str, role_kind: str, name: str, *, namespace: str = '',
            subject: dict[str, str] | None = None) -> dict[str, Any]:
    meta = {'name': name, **({'namespace': namespace} if namespace else {})}
    return {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': kind, 'metadata': meta,
            'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': role_kind, 'name': name},
            'subjects': [subject or ACCOUNT]}


def rule(verbs: list[str], resources: list[str], group: str = 'dtk.io', **more: list[str]) -> dict[str, Any]:
    return {'apiGroups': [group], 'resources': resources, 'verbs': verbs, **more}


def grants(*manifests: dict[str, Any]) -> list[Grant]:
    return grants_for(manifests, namespace='ops', service_account='op')


def task(verb: str, namespace: str = 'a', name: str = '', subresource: str = '') -> Access:
    return Access(verb=verb, group='dtk.io', resource='tasks', subresource=subresource, namespace=namespace, name=name)


# Matching: one rule against one request.

def test_a_rule_needs_the_verb_the_group_and_the_resource() -> None:
    tasks = Rule.from_wire(rule(['get', 'list'], ['tasks']))
    assert tasks.allows(task('get', name='t')) and tasks.allows(task('list'))
    assert not tasks.allows(task('watch'))
    assert not tasks.allows(Access(verb='get', group='other.io', resource='tasks', namespace='a', name='t'))
    assert not tasks.allows(Access(verb='get', group='dtk.io', resource='assemblies', namespace='a', name='t'))


def test_a_subresource_is_granted_only_by_its_own_name_or_star_slash_it() -> None:
    assert not Rule.from_wire(rule(['patch'], ['tasks'])).allows(task('patch', name='t', subresource='status'))
    assert Rule.from_wire(rule(['patch'], ['tasks/status'])).allows(task('patch', name='t', subresource='status'))
    assert not Rule.from_wire(rule(['patch'], ['tasks/status'])).allows(task('patch', name='t'))
    assert Rule.from_wire(rule(['patch'], ['*/status'])).allows(task('patch', name='t', subresource='status'))
    assert not Rule.from_wire(rule(['patch'], ['*/scale'])).allows(task('patch', name='t', subresource='status'))


def test_resource_names_grant_those_objects_only_and_never_a_create() -> None:
    named = Rule.from_wire(rule(['get', 'update', 'create'], ['tasks'], resourceNames=['t']))
    assert named.allows(task('get', name='t')) and named.allows(task('update', name='t'))
    assert not named.allows(task('get', name='u'))
    assert not named.allows(task('create'))  # a create names no object when it is authorised
    assert not named.allows(task('list'))


def test_wildcards_match_anything_in_their_field() -> None:
    everything = Rule.from_wire({'apiGroups': ['*'], 'resources': ['*'], 'verbs': ['*']})
    assert everything.allows(task('delete', name='t', subresource='status'))
    assert everything.allows(Access(verb='list', resource='secrets'))


def test_non_resource_urls_match_exactly_or_by_a_trailing_star() -> None:
    assert allowed([DISCOVERY], Access(verb='get', path='/apis/dtk.io/v1alpha1'))
    assert allowed([DISCOVERY], Access(verb='get', path='/version'))
    assert not allowed([DISCOVERY], Access(verb='get', path='/metrics'))
    assert not allowed([DISCOVERY], Access(verb='post', path='/apis'))
    assert not allowed([DISCOVERY], Access(verb='get', resource='namespaces'))


# Bindings: where a role applies, and to whom.

def test_a_cluster_role_binding_grants_everywhere_a_role_binding_only_in_its_namespace() -> None:
    cluster = grants(role('ClusterRole', 'c', rule(['list'], ['tasks'])),
                     binding('ClusterRoleBinding', 'ClusterRole', 'c'))
    assert allowed(cluster, task('list', namespace='a')) and allowed(cluster, task('list', namespace=''))
    local = grants(role('Role', 'r', rule(['list'], ['tasks']), namespace='a'),
                   binding('RoleBinding', 'Role', 'r', namespace='a'))
    assert allowed(local, task('list', namespace='a'))
    assert not allowed(local, task('list', namespace='b'))
    assert not allowed(local, task('list', namespace=''))  # a list across all namespaces is cluster-scoped


def test_a_role_binding_to_a_cluster_role_grants_in_the_binding_namespace_only() -> None:
    found = grants(role('ClusterRole', 'c', rule(['get'], ['tasks'])),
                   binding('RoleBinding', 'ClusterRole', 'c', namespace='a'))
    assert found == [Grant(role='ClusterRole/c', namespace='a', rules=(Rule(verbs=('get',), api_groups=('dtk.io',),
                                                                            resources=('tasks',)),))]
    assert allowed(found, task('get', name='t')) and not allowed(found, task('get', namespace='b', name='t'))


def test_bindings_of_other_subjects_and_bindings_to_missing_roles_grant_nothing() -> None:
    other = {'kind': 'ServiceAccount', 'name': 'op', 'namespace': 'elsewhere'}
    assert grants(role('ClusterRole', 'c', rule(['get'], ['tasks'])),
                  binding('ClusterRoleBinding', 'ClusterRole', 'c', subject=other)) == []
    assert grants(binding('ClusterRoleBinding', 'ClusterRole', 'missing')) == []
    # A RoleBinding refers to a Role of its own namespace, never one of the same name elsewhere.
    assert grants(role('Role', 'r', rule(['get'], ['tasks']), namespace='b'),
                  binding('RoleBinding', 'Role', 'r', namespace='a')) == []


# Least and enough over many requests.

def test_denied_lists_each_access_no_grant_allows() -> None:
    found = grants(role('ClusterRole', 'c', rule(['list', 'watch'], ['tasks'])),
                   binding('ClusterRoleBinding', 'ClusterRole', 'c'))
    assert denied(found, [task('list'), task('watch'), task('patch', name='t'), task('patch', name='t')]) == [
        task('patch', name='t')]


def test_unused_lists_each_verb_resource_and_name_no_access_needed() -> None:
    found = grants(role('ClusterRole', 'c', rule(['get', 'list'], ['tasks', 'assemblies']),
                        rule(['get'], ['leases'], 'coordination.k8s.io', resourceNames=['x', 'y'])),
                   binding('ClusterRoleBinding', 'ClusterRole', 'c'))
    used = [task('list'), task('get', name='t'),
            Access(verb='get', group='coordination.k8s.io', resource='leases', namespace='a', name='x')]
    assert unused(found, used) == ['ClusterRole/c: get assemblies in API group "dtk.io"',
                                   'ClusterRole/c: list assemblies in API group "dtk.io"',
                                   'ClusterRole/c: get leases named y in API group "coordination.k8s.io"']


def test_one_role_rendered_into_several_namespaces_is_used_if_used_in_any() -> None:
    manifests = [doc for ns in ('a', 'b')
                 for doc in (role('Role', 'r', rule(['list', 'watch'], ['tasks']), namespace=ns),
                             binding('RoleBinding', 'Role', 'r', namespace=ns))]
    found = grants(*manifests)
    assert unused(found, [task('list', namespace='a'), task('watch', namespace='b')]) == []
    assert unused(found, [task('list', namespace='a')]) == ['Role/r: watch tasks in API group "dtk.io"']


def test_wildcards_are_found_in_every_field_of_every_role() -> None:
    manifests = [role('ClusterRole', 'c', rule(['get'], ['tasks']), rule(['*'], ['tasks'])),
                 role('Role', 'r', rule(['get'], ['*/status'], namespace='a'), namespace='a'),
                 role('ClusterRole', 'u', {'verbs': ['get'], 'nonResourceURLs': ['/apis/*']}),
                 binding('ClusterRoleBinding', 'ClusterRole', 'c')]
    assert wildcards(manifests) == ['ClusterRole/c rules[1].verbs', 'Role/r rules[0].resources',
                                    'ClusterRole/u rules[0].nonResourceURLs']


# The emulator, over HTTP.

@pytest.fixture
def api() -> Iterator[ServedApi]:
    """The emulator keeping its access log (off by default), for every test of this module."""
    with ServedApi(KubeApiEmulator(accesses=AccessLog())) as served:
        yield served


def log_of(api: ServedApi) -> AccessLog:
    accesses = api.emulator.accesses
    if accesses is None:
        raise LookupError('the emulator keeps no access log')
    return accesses


@pytest.fixture
def probe(kubeconfig: pathlib.Path) -> Iterator[kubernetes.client.CustomObjectsApi]:
    """A client of its own that says who it is, as the operator's do (User-Agent `probe/1.0`)."""
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    client.user_agent = 'probe/1.0'
    yield kubernetes.client.CustomObjectsApi(client)
    client.close()


def on_widgets(verb: str, name: str = '', subresource: str = '', namespace: str = 'default') -> Access:
    return Access(verb=verb, group=GROUP, resource=PLURAL, subresource=subresource, namespace=namespace, name=name)


def test_the_emulator_logs_each_clients_accesses_as_the_authorizer_names_them(
        api: ServedApi, widgets: None, probe: kubernetes.client.CustomObjectsApi) -> None:
    probe.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w'))
    probe.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w')
    merge(probe, 'w', {'status': {'x': 1}}, status=True)
    probe.list_cluster_custom_object(GROUP, VERSION, PLURAL, watch=True, timeout_seconds=1,
                                     _preload_content=False).release_conn()
    probe.delete_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w')
    assert log_of(api).accesses(['probe']) == {
        on_widgets('create'), on_widgets('get', 'w'), on_widgets('patch', 'w', 'status'),
        on_widgets('watch', namespace=''), on_widgets('delete', 'w')}
    assert 'probe' in {who for who, _ in log_of(api).entries()}


def test_roles_bound_to_a_client_refuse_what_they_do_not_allow_in_kube_apiserver_words(
        api: ServedApi, widgets: None, probe: kubernetes.client.CustomObjectsApi,
        custom: kubernetes.client.CustomObjectsApi) -> None:
    bound = grants_for([role('Role', 'r', rule(['create'], [PLURAL], GROUP), namespace='default'),
                        binding('RoleBinding', 'Role', 'r', namespace='default', subject=ACCOUNT)],
                       namespace='ops', service_account='op')
    api.emulator.enforcement.bind(['probe'], bound, user='system:serviceaccount:ops:op')
    probe.create_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, widget('w'))
    with pytest.raises(ApiException) as refused:
        probe.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w')
    assert refused.value.status == 403
    assert json.loads(refused.value.body) == {
        'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'reason': 'Forbidden', 'code': 403,
        'message': 'widgets.example.io "w" is forbidden: User "system:serviceaccount:ops:op" cannot get resource '
                   '"widgets" in API group "example.io" in the namespace "default"'}
    with pytest.raises(ApiException) as across:
        probe.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert json.loads(across.value.body)['message'] == (
        'widgets.example.io is forbidden: User "system:serviceaccount:ops:op" cannot list resource "widgets" in API '
        'group "example.io" at the cluster scope')
    assert custom.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'w')  # others are not bound
    assert api.emulator.enforcement.refused() == [('probe', on_widgets('get', 'w')),
                                                   ('probe', on_widgets('list', namespace=''))]
