"""
Namespaces through kubectl, whose typed client creates them in protobuf (``kubectl create
namespace``), and the protobuf reader itself on bodies built by hand: every wire type skipped,
maps, and the 400s of malformed bodies.
"""
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from dtk_sandbox.kubeapi import errors, protobuf
from dtk_sandbox.kubeapi.specs import core_specs

NAMESPACES = next(spec for spec in core_specs() if spec.plural == 'namespaces')
CONFIGMAPS = next(spec for spec in core_specs() if spec.plural == 'configmaps')
# What kubectl 1.32 posts for `kubectl create namespace x` (from `kubectl -v=9`).
KUBECTL_BODY = bytes.fromhex(
    '6b 38 73 00 0a 0f 0a 02 76 31 12 09 4e 61 6d 65 73 70 61 63 65 12 19 0a 11 0a 01 78 12 00 1a 00 22 00 2a 00'
    '32 00 38 00 42 00 12 00 1a 02 0a 00 1a 00 22 00')


# A protobuf writer small enough to trust by reading: key = field number << 3 | wire type.
def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def ld(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def entry(key: str, value: str) -> bytes:
    return ld(1, key) + ld(2, value)


def envelope(namespace: bytes, *, kind: str = 'Namespace', extra: bytes = b'') -> bytes:
    return b'k8s\x00' + ld(1, ld(1, 'v1') + ld(2, kind)) + ld(2, namespace) + ld(3, '') + ld(4, '') + extra


def post(api: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST a namespace body as kubectl does (protobuf, either answer accepted): the code and the JSON answer."""
    request = urllib.request.Request(f'{api.url}/api/v1/namespaces', data=body, method='POST', headers={
        'Content-Type': protobuf.CONTENT_TYPE, 'Accept': f'{protobuf.CONTENT_TYPE},application/json'})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_create_get_and_delete_a_namespace_with_kubectl(kubectl):
    assert kubectl('create', 'namespace', 'x').stdout == 'namespace/x created\n'
    assert kubectl('get', 'ns', 'x').stdout.split()[3:5] == ['x', 'Active']
    already = kubectl('create', 'namespace', 'x', check=False)
    assert 'Error from server (AlreadyExists): namespaces "x" already exists' in already.stderr
    assert kubectl('delete', 'ns', 'x').stdout == 'namespace "x" deleted\n'
    gone = kubectl('get', 'ns', 'x', check=False)
    assert 'Error from server (NotFound): namespaces "x" not found' in gone.stderr


def test_a_namespace_created_from_a_generated_manifest_keeps_its_labels(kubectl, tmp_path):
    manifest = kubectl('create', 'namespace', 'team', '--dry-run=client', '-o', 'json').stdout
    labelled = json.loads(manifest)
    labelled['metadata']['labels'] = {'team': 'blue'}
    (tmp_path / 'ns.json').write_text(json.dumps(labelled))
    assert kubectl('apply', '-f', str(tmp_path / 'ns.json')).stdout == 'namespace/team created\n'
    assert kubectl('get', 'ns', '-l', 'team=blue', '-o', 'name').stdout == 'namespace/team\n'


def test_the_body_kubectl_sends_decodes_to_the_namespace():
    assert protobuf.decode(NAMESPACES, KUBECTL_BODY) == {'apiVersion': 'v1', 'kind': 'Namespace',
                                                         'metadata': {'name': 'x'}}


def test_labels_annotations_generate_name_and_finalizers_over_http(api, core):
    metadata = (ld(2, 'team-') + ld(11, entry('a', '1')) + ld(11, entry('b', '2')) + ld(11, entry('a', '3'))
                + ld(12, entry('note', 'hello, world')))
    status, created = post(api, envelope(ld(1, metadata) + ld(2, ld(1, 'example.io/hold'))))
    assert status == 201
    stored = core.read_namespace(created['metadata']['name'])
    assert stored.metadata.name.startswith('team-')
    assert stored.metadata.labels == {'a': '3', 'b': '2'}  # a repeated map key: the last one wins
    assert stored.metadata.annotations == {'note': 'hello, world'}
    assert stored.spec.finalizers == ['example.io/hold']


def test_unknown_fields_of_every_wire_type_are_skipped():
    unknown = (
        varint(7 << 3 | 0) + varint(300)  # VARINT (generation), a two-byte value
        + varint(1000 << 3 | 1) + (2**63).to_bytes(8, 'little')  # I64, with a two-byte key
        + varint(98 << 3 | 5) + (7).to_bytes(4, 'little')  # I32
        + ld(8, ld(1, varint(8)))  # LEN: a message (creationTimestamp), not read
        + varint(97 << 3 | 3) + ld(1, 'name inside a group') + varint(96 << 3 | 3) + varint(96 << 3 | 4)
        + varint(97 << 3 | 4)  # a group, nested group included: skipped whole, its fields too
    )
    metadata = unknown + ld(1, 'skipper') + unknown + ld(11, entry('k', 'v') + varint(3 << 3 | 0) + varint(1))
    body = envelope(ld(1, metadata) + ld(3, ld(1, 'Active')) + unknown, extra=unknown)
    assert protobuf.decode(NAMESPACES, body) == {
        'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'skipper', 'labels': {'k': 'v'}}}


def test_groups_nested_deeper_than_python_recursion_are_skipped():
    deep = b''.join(varint(9 << 3 | 3) for _ in range(5000)) + b''.join(varint(9 << 3 | 4) for _ in range(5000))
    assert protobuf.decode(NAMESPACES, envelope(ld(1, deep + ld(1, 'deep'))))['metadata'] == {'name': 'deep'}


@pytest.mark.parametrize(('body', 'message'), [
    (KUBECTL_BODY[:-5], 'the protobuf body is truncated: in runtime.Unknown, 25 bytes expected at offset 19, 24 left'),
    (KUBECTL_BODY[:20], 'the protobuf body is truncated: in runtime.Unknown, 15 bytes expected at offset 2, 14 left'),
    (b'k8s\x00\x0a\x80', 'the protobuf body is truncated: in runtime.Unknown, a varint is cut short'),
    (envelope(ld(1, varint(5 << 3 | 3))), 'the protobuf body is truncated: in ObjectMeta, group 5 is not closed'),
    (envelope(ld(1, varint(5 << 3 | 4))), 'the protobuf body is malformed: in ObjectMeta, end of group 5 without '
                                          'its start'),
    (envelope(ld(1, varint(5 << 3 | 6))), 'the protobuf body is malformed: in ObjectMeta, field 5 has wire type 6, '
                                          'which does not exist'),
    (envelope(ld(1, varint(0 << 3 | 0) + varint(1))), 'the protobuf body is malformed: in ObjectMeta, field number 0'),
    (envelope(ld(1, varint(1 << 3 | 0) + varint(1))), 'the protobuf body is malformed: field 1 of ObjectMeta is '
                                                      'not length-delimited'),
    (envelope(ld(1, ld(1, b'\xff'))), 'the protobuf body is malformed: field 1 of ObjectMeta is not UTF-8 text'),
    (b'{"kind": "Namespace"}', 'provided data does not appear to be a protobuf message, '
                               'expected prefix [107, 56, 115, 0]'),
])
def test_a_malformed_body_is_a_bad_request_saying_why(api, body, message):
    status, answer = post(api, body)
    assert (status, answer['reason'], answer['message']) == (400, 'BadRequest', message)


def test_protobuf_of_other_kinds_and_resources_is_unsupported(api, kubectl):
    status, answer = post(api, envelope(b'', kind='DeleteOptions'))
    assert (status, answer['reason']) == (415, 'UnsupportedMediaType')
    with pytest.raises(errors.ApiError) as refused:
        protobuf.decode(CONFIGMAPS, KUBECTL_BODY)
    assert refused.value.code == 415
    create = kubectl('create', 'configmap', 'c', '--from-literal=a=1', check=False)
    assert create.stderr.startswith('error: failed to create configmap: the body of the request was in an unknown')
