"""
Deletion beyond one object: ownerReference garbage collection and namespace deletion.
"""
import kubernetes.client
import pytest

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
MERGE = 'application/merge-patch+json'
pytestmark = pytest.mark.usefixtures('widgets')


def create(custom, name: str, *, owners: tuple[dict, ...] = (), finalizers: tuple[str, ...] = (),
           ns: str = 'default') -> dict:
    metadata = {'name': name, 'ownerReferences': [ref(owner) for owner in owners], 'finalizers': list(finalizers)}
    return custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, {'metadata': metadata})


def ref(owner: dict) -> dict:
    return {'apiVersion': owner['apiVersion'], 'kind': owner['kind'],
            'name': owner['metadata']['name'], 'uid': owner['metadata']['uid']}


def names(custom, ns: str = 'default') -> list[str]:
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)
    return [item['metadata']['name'] for item in listed['items']]


def delete(custom, name: str, ns: str = 'default', **kwargs: object) -> None:
    custom.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name, **kwargs)


def drop_finalizers(custom, name: str, ns: str = 'default') -> None:
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name, {'metadata': {'finalizers': None}},
                                          _content_type=MERGE)


def test_removing_an_owner_collects_its_dependents_in_cascade(custom):
    parent = create(custom, 'parent')
    child = create(custom, 'child', owners=(parent,))
    create(custom, 'grandchild', owners=(child,))
    create(custom, 'unrelated')
    delete(custom, 'parent')
    assert names(custom) == ['unrelated']


def test_collection_honours_the_dependents_finalizers(custom):
    parent = create(custom, 'parent')
    create(custom, 'child', owners=(parent,), finalizers=('example.io/f',))
    delete(custom, 'parent')
    held = custom.get_namespaced_custom_object(GROUP, VERSION, 'default', PLURAL, 'child')
    assert held['metadata']['deletionTimestamp']
    drop_finalizers(custom, 'child')
    assert names(custom) == []


def test_an_owner_held_by_finalizers_keeps_its_dependents_until_it_is_gone(custom):
    parent = create(custom, 'parent', finalizers=('example.io/f',))
    create(custom, 'child', owners=(parent,))
    delete(custom, 'parent')
    assert names(custom) == ['child', 'parent']
    drop_finalizers(custom, 'parent')
    assert names(custom) == []


def test_a_dependent_with_another_living_owner_stays(custom):
    first, second = create(custom, 'first'), create(custom, 'second')
    create(custom, 'shared', owners=(first, second))
    delete(custom, 'first')
    assert names(custom) == ['second', 'shared']
    delete(custom, 'second')
    assert names(custom) == []


def test_orphan_propagation_keeps_the_dependents(custom):
    parent = create(custom, 'parent')
    create(custom, 'child', owners=(parent,))
    delete(custom, 'parent', propagation_policy='Orphan')
    assert names(custom) == ['child']


def test_dependents_of_other_kinds_are_collected_too(custom, core):
    parent = create(custom, 'parent')
    core.create_namespaced_config_map('default', {'metadata': {'name': 'c1', 'ownerReferences': [ref(parent)]}})
    delete(custom, 'parent')
    assert core.list_namespaced_config_map('default').items == []


def test_a_deleted_namespace_empties_itself_then_goes(custom, core):
    core.create_namespace({'metadata': {'name': 'doomed'}})
    create(custom, 'plain', ns='doomed')
    create(custom, 'held', ns='doomed', finalizers=('example.io/f',))
    core.delete_namespace('doomed')
    assert core.read_namespace('doomed').status.phase == 'Terminating'
    assert names(custom, 'doomed') == ['held']
    with pytest.raises(kubernetes.client.ApiException) as excinfo:  # no new content while terminating
        create(custom, 'late', ns='doomed')
    assert excinfo.value.status == 403
    drop_finalizers(custom, 'held', ns='doomed')
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        core.read_namespace('doomed')
    assert excinfo.value.status == 404
