"""
coordination.k8s.io/v1 Leases as leader election uses them (client-go's LeaseLock, the operator's
--leader-elect): create-if-absent and replace-with-the-read-resourceVersion must be decided by the
server, exactly as kube-apiserver does, or two candidates could both believe they lead.
"""
import json
import threading

import kubernetes.client
import pytest


def lease(name: str, holder: str, *, rv: str | None = None, renewed: str = '2026-11-26T13:00:00.000000Z') -> dict:
    metadata: dict[str, str] = {'name': name}
    if rv is not None:
        metadata['resourceVersion'] = rv
    return {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease', 'metadata': metadata,
            'spec': {'holderIdentity': holder, 'leaseDurationSeconds': 15,
                     'acquireTime': '2026-11-26T13:00:00.000000Z', 'renewTime': renewed,
                     'leaseTransitions': 0}}


@pytest.fixture
def coordination(k8s: kubernetes.client.ApiClient) -> kubernetes.client.CoordinationV1Api:
    return kubernetes.client.CoordinationV1Api(k8s)


def reason(error: kubernetes.client.ApiException) -> str:
    return str(json.loads(error.body)['reason'])


def test_a_second_create_of_the_same_lease_is_409_already_exists(coordination):
    coordination.create_namespaced_lease('default', lease('elect', 'a'))
    with pytest.raises(kubernetes.client.ApiException) as excinfo:
        coordination.create_namespaced_lease('default', lease('elect', 'b'))
    assert (excinfo.value.status, reason(excinfo.value)) == (409, 'AlreadyExists')
    assert coordination.read_namespaced_lease('elect', 'default').spec.holder_identity == 'a'


def test_a_replace_with_a_stale_resource_version_is_409_conflict_and_changes_nothing(coordination):
    read = coordination.create_namespaced_lease('default', lease('elect', 'a')).metadata.resource_version
    renewed = coordination.replace_namespaced_lease(
        'elect', 'default', lease('elect', 'a', rv=read, renewed='2026-11-26T13:00:02.000000Z'))
    assert int(renewed.metadata.resource_version) > int(read)
    with pytest.raises(kubernetes.client.ApiException) as excinfo:  # b read the Lease before a renewed it
        coordination.replace_namespaced_lease('elect', 'default', lease('elect', 'b', rv=read))
    assert (excinfo.value.status, reason(excinfo.value)) == (409, 'Conflict')
    stored = coordination.read_namespaced_lease('elect', 'default')
    assert stored.spec.holder_identity == 'a'
    assert stored.metadata.resource_version == renewed.metadata.resource_version


def test_of_many_candidates_replacing_the_same_version_at_once_exactly_one_wins(coordination):
    read = coordination.create_namespaced_lease('default', lease('elect', '')).metadata.resource_version
    outcomes: dict[str, object] = {}
    start = threading.Barrier(8)

    def candidate(name: str) -> None:
        start.wait()
        try:
            outcomes[name] = coordination.replace_namespaced_lease('elect', 'default', lease('elect', name, rv=read))
        except kubernetes.client.ApiException as error:
            outcomes[name] = error.status

    threads = [threading.Thread(target=candidate, args=(f'c{i}',)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [name for name, outcome in outcomes.items() if not isinstance(outcome, int)]
    assert len(winners) == 1 and sorted(o for o in outcomes.values() if isinstance(o, int)) == [409] * 7
    assert coordination.read_namespaced_lease('elect', 'default').spec.holder_identity == winners[0]


def test_micro_time_fields_come_back_as_written(coordination):
    created = coordination.create_namespaced_lease('default', lease('elect', 'a'))
    assert created.spec.renew_time.isoformat() == '2026-11-26T13:00:00+00:00'
    assert created.spec.lease_duration_seconds == 15
