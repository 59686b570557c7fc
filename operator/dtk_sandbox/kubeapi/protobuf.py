"""
The Kubernetes protobuf encoding, read just far enough to create a namespace.

client-go's typed clients send built-in kinds as protobuf, so ``kubectl create namespace x`` posts
``k8s\\x00`` followed by a ``runtime.Unknown`` message: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the
Namespace message: 1 metadata, 2 spec), 3 contentEncoding, 4 contentType. It accepts a JSON answer.
Every other body kubectl sends is JSON, so a Namespace is the one message decoded here: its name,
generateName, labels, annotations and spec finalizers. Every other field is skipped by its wire type,
so that bodies from newer clients still decode; a malformed body is a 400, as on a real server.
"""
from typing import Any

from dtk_sandbox.kubeapi import errors
from dtk_sandbox.kubeapi.specs import ResourceSpec
from dtk_sandbox.kubeapi.store import NAMESPACES

CONTENT_TYPE = 'application/vnd.kubernetes.protobuf'
MAGIC = b'k8s\x00'
VARINT, I64, LEN, START_GROUP, END_GROUP, I32 = range(6)  # the wire types
Value = int | bytes  # a number (VARINT, I64, I32) or the payload of a LEN field


def decode(spec: ResourceSpec, body: bytes) -> dict[str, Any]:
    """A Namespace body as the JSON the store takes; 415 for other resources and kinds, 400 if malformed."""
    if spec.storage_key != NAMESPACES:
        raise errors.unsupported_media_type(CONTENT_TYPE)
    api_version, kind, raw = _unwrap(body)
    if kind != 'Namespace':  # e.g. DeleteOptions: only JSON is read for anything but a Namespace
        raise errors.unsupported_media_type(f'{CONTENT_TYPE} ({kind or "no kind"})')
    return {'apiVersion': api_version or 'v1', 'kind': kind, **_namespace(raw)}


def _unwrap(body: bytes) -> tuple[str, str, bytes]:
    """The runtime.Unknown envelope's apiVersion, kind and raw message."""
    if not body.startswith(MAGIC):  # the real server's words
        raise errors.bad_request('provided data does not appear to be a protobuf message, '
                                 f'expected prefix {list(MAGIC)}')
    unknown = _fields(body[len(MAGIC):], 'runtime.Unknown')
    type_meta = _fields(_message(unknown, 1, 'runtime.Unknown'), 'TypeMeta')
    return _text(type_meta, 1, 'TypeMeta'), _text(type_meta, 2, 'TypeMeta'), _message(unknown, 2, 'runtime.Unknown')


def _namespace(raw: bytes) -> dict[str, Any]:
    """The metadata and spec finalizers of a Namespace message; proto3 leaves no difference between empty and absent."""
    namespace = _fields(raw, 'Namespace')
    metadata = _fields(_message(namespace, 1, 'Namespace'), 'ObjectMeta')
    meta = {'name': _text(metadata, 1, 'ObjectMeta'), 'generateName': _text(metadata, 2, 'ObjectMeta'),
            'labels': _map(metadata, 11, 'labels'), 'annotations': _map(metadata, 12, 'annotations')}
    finalizers = _texts(_fields(_message(namespace, 2, 'Namespace'), 'NamespaceSpec'), 1, 'NamespaceSpec')
    result: dict[str, Any] = {'metadata': {key: value for key, value in meta.items() if value}}
    return {**result, 'spec': {'finalizers': finalizers}} if finalizers else result


def _fields(data: bytes, message: str) -> list[tuple[int, Value]]:
    """Every (field number, value) of a message, in order; groups (deprecated, never read) are skipped whole."""
    reader = _Reader(data, message)
    fields: list[tuple[int, Value]] = []
    groups: list[int] = []  # the open groups, innermost last; a stack rather than recursion: no depth limit
    while not reader.done:
        key = reader.varint()
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise reader.malformed('field number 0')
        if wire_type > I32:
            raise reader.malformed(f'field {number} has wire type {wire_type}, which does not exist')
        if wire_type == START_GROUP:
            groups.append(number)
        elif wire_type == END_GROUP and (not groups or groups.pop() != number):
            raise reader.malformed(f'end of group {number} without its start')
        elif wire_type != END_GROUP:
            value = reader.value(wire_type)
            if not groups:
                fields.append((number, value))
    if groups:
        raise reader.truncated(f'group {groups[-1]} is not closed')
    return fields


class _Reader:
    def __init__(self, data: bytes, message: str) -> None:
        self._data, self._pos, self._message = data, 0, message

    @property
    def done(self) -> bool:
        return self._pos >= len(self._data)

    def varint(self) -> int:
        result = 0
        for shift in range(0, 70, 7):  # at most 10 bytes encode 64 bits
            if self.done:
                raise self.truncated('a varint is cut short')
            byte = self._data[self._pos]
            self._pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
        raise self.malformed('a varint is longer than 10 bytes')

    def value(self, wire_type: int) -> Value:
        if wire_type == VARINT:
            return self.varint()
        size = {I64: 8, I32: 4}.get(wire_type) or self.varint()
        if size > len(self._data) - self._pos:
            raise self.truncated(f'{size} bytes expected at offset {self._pos}, '
                                 f'{len(self._data) - self._pos} left')
        chunk = self._data[self._pos:self._pos + size]
        self._pos += size
        return chunk if wire_type == LEN else int.from_bytes(chunk, 'little')

    def truncated(self, detail: str) -> errors.ApiError:
        return errors.bad_request(f'the protobuf body is truncated: in {self._message}, {detail}')

    def malformed(self, detail: str) -> errors.ApiError:
        return errors.bad_request(f'the protobuf body is malformed: in {self._message}, {detail}')


def _payloads(fields: list[tuple[int, Value]], number: int, message: str) -> list[bytes]:
    """The payloads of one length-delimited field, in order (one per item of a repeated field)."""
    found = [value for field, value in fields if field == number]
    if not all(isinstance(value, bytes) for value in found):
        raise errors.bad_request(f'the protobuf body is malformed: field {number} of {message} is not '
                                 'length-delimited')
    return [value for value in found if isinstance(value, bytes)]


def _message(fields: list[tuple[int, Value]], number: int, message: str) -> bytes:
    # An embedded message given twice is merged, and an absent one is empty: concatenation does both.
    return b''.join(_payloads(fields, number, message))


def _texts(fields: list[tuple[int, Value]], number: int, message: str) -> list[str]:
    try:
        return [payload.decode() for payload in _payloads(fields, number, message)]
    except UnicodeDecodeError:
        raise errors.bad_request(f'the protobuf body is malformed: field {number} of {message} '
                                 'is not UTF-8 text') from None


def _text(fields: list[tuple[int, Value]], number: int, message: str) -> str:
    texts = _texts(fields, number, message)
    return texts[-1] if texts else ''  # the last of a repeated scalar wins, as in protobuf


def _map(fields: list[tuple[int, Value]], number: int, name: str) -> dict[str, str]:
    """A map<string, string>: repeated entries {1 key, 2 value}; a later key replaces an earlier one."""
    entries = [_fields(payload, f'an entry of {name}') for payload in _payloads(fields, number, 'ObjectMeta')]
    return {_text(entry, 1, f'an entry of {name}'): _text(entry, 2, f'an entry of {name}') for entry in entries}
