"""
The emulator admits custom resources as kube-apiserver does with a structural schema: pruning,
defaulting, OpenAPI validation, list-map keys, CEL rules (transition rules included), the 422's
wording, fieldValidation and the size limits. A made-up ``gadgets`` CRD exercises each mechanism;
the project's own CRDs are covered by tests/e2e/test_schema_verdicts.py.
"""
import json
from typing import Any

import kubernetes.client
import kubernetes.config
import pytest
from kubernetes.client.exceptions import ApiException

from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'gadgets'
MERGE = 'application/merge-patch+json'
UNCHECKED = ('<nil>', 'Invalid value: "null": some validation rules were not checked because the object was invalid; '
                      'correct the existing errors to complete validation')

_PART = {
    'type': 'object', 'required': ['name'],
    'properties': {'name': {'type': 'string', 'maxLength': 8}, 'size': {'type': 'integer', 'default': 1}},
}
SCHEMA: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'spec': {
            'type': 'object',
            'required': ['color'],
            'x-kubernetes-validations': [
                {'rule': 'self.color != "red" || self.count < 3', 'messageExpression': '"red allows " + string(2)'},
                {'rule': 'self.count <= oldSelf.count', 'message': 'count can only go down'},
                {'rule': 'has(self.mode) || self.count > 0'},
            ],
            'properties': {
                'color': {'type': 'string', 'enum': ['red', 'blue']},
                'count': {'type': 'integer', 'minimum': 0, 'maximum': 10, 'default': 2},
                'mode': {'type': 'string', 'pattern': '^[a-z]+$', 'nullable': True},
                'port': {'x-kubernetes-int-or-string': True},
                'extra': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True},
                'labels': {'type': 'object', 'additionalProperties': {'type': 'string'}},
                'parts': {'type': 'array', 'maxItems': 3, 'items': {
                    **_PART,
                    'x-kubernetes-validations': [{'rule': 'self.size >= oldSelf.size', 'message': 'parts only grow'}],
                }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name']},
                'when': {'type': 'string', 'format': 'date-time'},
            },
        },
        'status': {'type': 'object', 'properties': {'phase': {'type': 'string', 'enum': ['Up', 'Down']},
                                                    'code': {'type': 'integer', 'nullable': True}}},
    },
}
GADGETS_CRD: dict[str, Any] = {
    'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
    'metadata': {'name': 'gadgets.example.io'},
    'spec': {'group': GROUP, 'scope': 'Namespaced', 'names': {'plural': PLURAL, 'singular': 'gadget', 'kind': 'Gadget'},
             'versions': [{'name': VERSION, 'served': True, 'storage': True, 'subresources': {'status': {}},
                           'schema': {'openAPIV3Schema': SCHEMA}}]},
}


def gadget(name: str = 'g1', **spec: Any) -> dict[str, Any]:
    return {'apiVersion': f'{GROUP}/{VERSION}', 'kind': 'Gadget', 'metadata': {'name': name},
            'spec': {'color': 'blue', **spec}}


def serve(*, validation: bool) -> ServedApi:
    served = ServedApi(KubeApiEmulator(validation=validation)).__enter__()
    served.call(lambda: served.emulator.store.create(
        served.emulator.spec('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), None, GADGETS_CRD))
    return served


@pytest.fixture
def custom(tmp_path: Any) -> Any:
    served = serve(validation=True)
    client = kubernetes.config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / 'kc', served.url)))
    yield kubernetes.client.CustomObjectsApi(client)
    client.close()
    served.stop()


def create(custom: Any, body: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], Any]:
    data, _, headers = custom.create_namespaced_custom_object_with_http_info(GROUP, VERSION, 'default', PLURAL, body,
                                                                             **kwargs)
    return data, headers


def patch(custom: Any, name: str, body: Any, *, status: bool = False) -> dict[str, Any]:
    fn = custom.patch_namespaced_custom_object_status if status else custom.patch_namespaced_custom_object
    return fn(GROUP, VERSION, 'default', PLURAL, name, body, _content_type=MERGE)  # type: ignore[no-any-return]


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        call()
    return {'code': caught.value.status, **json.loads(caught.value.body)}


def causes(status: dict[str, Any]) -> set[tuple[str, str]]:
    return {(cause['field'], cause['message']) for cause in status['details']['causes']}


def test_defaults_fill_absent_fields_and_unknown_fields_are_pruned_with_a_warning(custom: Any) -> None:
    body = gadget(parts=[{'name': 'a'}], colour='red')
    data, headers = create(custom, body)
    assert data['spec'] == {'color': 'blue', 'count': 2, 'parts': [{'name': 'a', 'size': 1}]}
    assert headers.get('Warning') == '299 - "unknown field \\"spec.colour\\""'


def test_strict_field_validation_refuses_unknown_fields_by_name(custom: Any) -> None:
    status = refusal(lambda: create(custom, gadget(colour='red', parts=[{'name': 'a', 'sise': 2}]),
                                    field_validation='Strict'))
    assert (status['code'], status['reason']) == (400, 'BadRequest')
    assert status['message'] == ('Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: '
                                 'unknown field "spec.colour", unknown field "spec.parts[0].sise"')


def test_ignore_drops_unknown_fields_silently_and_preserved_objects_keep_theirs(custom: Any) -> None:
    data, headers = create(custom, gadget(colour='red', extra={'anything': {'goes': [1]}}, port='http'),
                           field_validation='Ignore')
    assert 'Warning' not in headers
    assert data['spec']['extra'] == {'anything': {'goes': [1]}} and data['spec']['port'] == 'http'
    assert 'colour' not in data['spec']


def test_every_schema_violation_is_one_cause_and_cel_is_skipped_after_a_blocking_one(custom: Any) -> None:
    body = gadget(color='green', count=11, mode='UP', when='yesterday', labels={'a': 1},
                  parts=[{'name': 'toolongname'}, {'size': 2}, {'name': 'x'}, {'name': 'y'}])
    status = refusal(lambda: create(custom, body))
    assert (status['code'], status['reason']) == (422, 'Invalid')
    assert causes(status) == {
        ('spec.color', 'Unsupported value: "green": supported values: "red", "blue"'),
        ('spec.count', 'Invalid value: 11: spec.count in body should be less than or equal to 10'),
        ('spec.mode', "Invalid value: \"UP\": spec.mode in body should match '^[a-z]+$'"),
        ('spec.when', 'Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"'),
        ('spec.labels.a', 'Invalid value: "integer": spec.labels.a in body must be of type string: "integer"'),
        ('spec.parts', 'Too many: 4: must have at most 3 items'),
        ('spec.parts[0].name', 'Too long: may not be longer than 8'),
        ('spec.parts[1].name', 'Required value'),
        UNCHECKED,
    }
    assert len(status['details']['causes']) == len(causes(status))  # each reported once
    reasons = {cause['field']: cause['reason'] for cause in status['details']['causes']}
    assert reasons['spec.color'] == 'FieldValueNotSupported' and reasons['spec.labels.a'] == 'FieldValueTypeInvalid'
    assert status['message'].startswith('Gadget.example.io "g1" is invalid: [')


def test_one_cause_is_summarised_without_brackets_and_duplicates_name_their_keys(custom: Any) -> None:
    status = refusal(lambda: create(custom, gadget(parts=[{'name': 'a'}, {'name': 'a'}])))
    assert status['message'] == ('Gadget.example.io "g1" is invalid: spec.parts[1]: '
                                 'Duplicate value: map[string]interface {}{"name":"a"}')
    assert status['details']['causes'] == [{'reason': 'FieldValueDuplicate', 'field': 'spec.parts[1]',
                                            'message': 'Duplicate value: map[string]interface {}{"name":"a"}'}]


def test_cel_rules_word_their_refusal_with_message_expression_message_or_the_rule(custom: Any) -> None:
    status = refusal(lambda: create(custom, gadget(color='red', count=5)))
    assert causes(status) == {('spec', 'Invalid value: "object": red allows 2')}
    status = refusal(lambda: create(custom, gadget(count=0)))
    assert causes(status) == {('spec', 'Invalid value: "object": failed rule: has(self.mode) || self.count > 0')}


def test_transition_rules_apply_on_update_only_and_follow_map_list_keys(custom: Any) -> None:
    create(custom, gadget(count=5, parts=[{'name': 'a', 'size': 3}]))  # oldSelf rules are not run on create
    status = refusal(lambda: patch(custom, 'g1', {'spec': {'count': 6}}))
    assert causes(status) == {('spec', 'Invalid value: "object": count can only go down')}
    reordered = [{'name': 'b', 'size': 1}, {'name': 'a', 'size': 2}]
    status = refusal(lambda: patch(custom, 'g1', {'spec': {'parts': reordered}}))
    assert causes(status) == {('spec.parts[1]', 'Invalid value: "object": parts only grow')}  # correlated by name
    assert patch(custom, 'g1', {'spec': {'count': 4}})['spec']['count'] == 4


def test_null_members_of_a_merge_patch_are_not_stored_even_inside_lists(custom: Any) -> None:
    create(custom, gadget(mode='a'))
    stored = patch(custom, 'g1', {'spec': {'mode': None, 'parts': [{'name': 'a', 'size': None}]}})
    assert stored['spec']['parts'] == [{'name': 'a', 'size': 1}]  # the null went, then the default came
    assert 'mode' not in stored['spec']


def test_status_writes_are_validated_and_nullable_fields_keep_null(custom: Any) -> None:
    create(custom, gadget())
    status = refusal(lambda: patch(custom, 'g1', {'status': {'phase': 'Sideways'}}, status=True))
    assert causes(status) == {('status.phase', 'Unsupported value: "Sideways": supported values: "Up", "Down"'),
                              UNCHECKED}
    replaced = custom.replace_namespaced_custom_object_status(
        GROUP, VERSION, 'default', PLURAL, 'g1', {**gadget(), 'status': {'phase': 'Up', 'code': None}})
    assert replaced['status'] == {'phase': 'Up', 'code': None}


def test_metadata_names_must_be_dns_subdomains(custom: Any) -> None:
    status = refusal(lambda: create(custom, gadget('Bad_Name')))
    assert causes(status) == {('metadata.name', (
        'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
        "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))}


def test_request_bodies_over_3_mib_and_objects_over_etcds_limit_are_refused(custom: Any) -> None:
    status = refusal(lambda: create(custom, gadget(extra={'blob': 'x' * (3 * 1024 * 1024)})))
    assert (status['code'], status['reason']) == (413, 'RequestEntityTooLarge')
    assert status['message'] == 'Request entity too large: limit is 3145728'
    status = refusal(lambda: create(custom, gadget(extra={'blob': 'x' * (1536 * 1024)})))
    assert (status['code'], status['message']) == (500, 'etcdserver: request is too large')
    assert 'reason' not in status


def test_without_validation_anything_but_a_bad_name_is_stored_as_sent(tmp_path: Any) -> None:
    served = serve(validation=False)
    try:
        client = kubernetes.config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / 'k', served.url)))
        custom = kubernetes.client.CustomObjectsApi(client)
        data, headers = create(custom, gadget(color=7, count='many', colour='red'), field_validation='Strict')
        assert data['spec'] == {'color': 7, 'count': 'many', 'colour': 'red'} and 'Warning' not in headers
        status = refusal(lambda: create(custom, gadget('Bad_Name')))  # names: checked whatever the CRD says
        assert status['code'] == 422 and {field for field, _ in causes(status)} == {'metadata.name'}
        client.close()
    finally:
        served.stop()


def test_after_a_schema_change_unchanged_parts_are_validated_again(tmp_path: Any) -> None:
    """A status write re-checks the whole object under the new schema, as kube-apiserver 1.28 does
    (no ratcheting): an older object that the new schema refuses cannot even take a status."""
    served = serve(validation=True)
    try:
        client = kubernetes.config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / 'k', served.url)))
        custom = kubernetes.client.CustomObjectsApi(client)
        create(custom, gadget(color='blue'))
        assert patch(custom, 'g1', {'status': {'phase': 'Up'}}, status=True)['status'] == {'phase': 'Up'}
        crds = kubernetes.client.ApiextensionsV1Api(client)
        crd = client.sanitize_for_serialization(crds.read_custom_resource_definition('gadgets.example.io'))
        crd['spec']['versions'][0]['schema']['openAPIV3Schema']['properties']['spec']['properties']['color']['enum'] = [
            'red']
        crds.replace_custom_resource_definition('gadgets.example.io', crd)
        status = refusal(lambda: patch(custom, 'g1', {'status': {'phase': 'Down'}}, status=True))
        assert causes(status) == {('spec.color', 'Unsupported value: "blue": supported values: "red"'), UNCHECKED}
        client.close()
    finally:
        served.stop()


def test_a_null_list_item_is_a_type_error_named_null(custom: Any) -> None:
    status = refusal(lambda: create(custom, gadget(parts=[None])))
    assert ('spec.parts[0]', 'Invalid value: "null": spec.parts[0] in body must be of type object: "null"') in causes(
        status)
