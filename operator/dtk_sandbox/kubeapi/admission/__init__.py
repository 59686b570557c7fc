"""
Admission of custom resources: what kube-apiserver does with a CRD's structural schema on every
create, update, patch and ``/status`` write, in its order.

1. decode: fields the schema does not declare are pruned; ``fieldValidation`` decides whether
   that is silent (Ignore), a ``Warning`` header each (Warn, the default) or a 400 (Strict);
2. defaults are applied (and nulls of non-nullable fields dropped);
3. validation: metadata (name, labels), the OpenAPI schema, list-type invariants, then the
   ``x-kubernetes-validations`` CEL rules (skipped after a blocking error, as the real server);
4. the stored object's size is checked against etcd's request limit.

The store calls :meth:`SchemaAdmission.admit` once per write, between applying the request and storing.
"""
import json
from collections.abc import Mapping
from typing import Any

from dtk_sandbox.kubeapi import errors
from dtk_sandbox.kubeapi.admission import cel_rules, listtypes, metadata, openapi_rules, structural
from dtk_sandbox.kubeapi.admission.fielderrors import BLOCKING, ErrorType, FieldError, invalid
from dtk_sandbox.kubeapi.admission.options import FieldValidation, WriteOptions
from dtk_sandbox.kubeapi.objects import Body, meta
from dtk_sandbox.kubeapi.specs import ResourceSpec

__all__ = ['FieldValidation', 'SchemaAdmission', 'WriteOptions', 'admit_metadata', 'admit_size']

Schema = Mapping[str, Any]
# etcd's default --max-request-bytes (1.5 MiB): a bigger object cannot be stored.
MAX_OBJECT_BYTES = 1_572_864
_UNCHECKED_RULES = FieldError(ErrorType.INVALID, '<nil>', None,
                              'some validation rules were not checked because the object was invalid; '
                              'correct the existing errors to complete validation')


class SchemaAdmission:
    """
    One emulator's schema admission. It remembers which schema admitted each stored version, so
    that the parts of a write equal to the stored version are neither pruned nor validated again
    (a status write changes a few rows of thousands) — but only while the CRD's schema is the one
    that admitted them: after a schema change everything is checked again, as the real server does.
    """

    def __init__(self) -> None:
        self._admitted_under: dict[tuple[object, ...], tuple[str, Schema]] = {}  # object -> (its rv, the schema)

    def admit(self, spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions) -> Body:
        """The object as the real server would store it; raises the real server's refusal."""
        schema = spec.schema
        if schema is None or spec.builtin:
            return new
        trusted = self._trusted(spec, old)
        new, unknown = structural.prune_object(new, schema, trusted)
        _report_unknown(spec, unknown, options)
        new = structural.apply_defaults(new, schema)
        content = _without_metadata(new)
        found = [*metadata.validate(meta(new)), *_name_rules(new, schema),
                 *openapi_rules.validate(content, schema, '', trusted), *listtypes.validate(content, schema, '')]
        if any(error.type in BLOCKING for error in found):
            found.append(_UNCHECKED_RULES)
        else:
            previous = _without_metadata(old) if old is not None else cel_rules.NOT_CORRELATED
            found += cel_rules.validate(content, schema, '', previous)
        if found:
            raise invalid(spec, meta(new).get('name', ''), found)
        return new

    def remember(self, spec: ResourceSpec, old: Body | None, new: Body | None) -> None:
        """A store observer: called once a version is stored (new) or the object removed (None)."""
        if spec.schema is None or spec.builtin:
            return
        key = _key(spec, new if new is not None else old or {})
        if new is None:
            self._admitted_under.pop(key, None)
        else:
            self._admitted_under[key] = (meta(new).get('resourceVersion', ''), spec.schema)

    def _trusted(self, spec: ResourceSpec, old: Body | None) -> Any:
        if old is None:
            return structural.UNKNOWN
        version, schema = self._admitted_under.get(_key(spec, old), ('', None))
        same_version = version and version == meta(old).get('resourceVersion')
        return _without_metadata(old) if same_version and schema is spec.schema else structural.UNKNOWN


def _key(spec: ResourceSpec, obj: Body) -> tuple[object, ...]:
    return (spec.storage_key, meta(obj).get('namespace') or '', meta(obj).get('name') or '')


def admit_metadata(spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions) -> Body:
    """Names and labels alone, for an emulator without schema admission: a real server checks them
    whatever the CRD says, so not even objects stored under an older CRD break these rules."""
    found = [] if spec.builtin else metadata.validate(meta(new))
    if found:
        raise invalid(spec, meta(new).get('name', ''), found)
    return new


def admit_size(spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions) -> Body:
    if len(json.dumps(new, separators=(',', ':'))) > MAX_OBJECT_BYTES:
        raise errors.ApiError(code=500, reason='', message='etcdserver: request is too large')
    return new


def _report_unknown(spec: ResourceSpec, unknown: list[str], options: WriteOptions) -> None:
    if not unknown or options.field_validation is FieldValidation.IGNORE:
        return
    described = [f'unknown field "{path}"' for path in unknown]
    if options.field_validation is FieldValidation.STRICT:
        raise errors.bad_request(f'{spec.kind} in version "{spec.version}" cannot be handled as a {spec.kind}: '
                                 f'strict decoding error: {", ".join(described)}')
    options.warnings.extend(described)


def _name_rules(obj: Body, schema: Schema) -> list[FieldError]:
    """A CRD may bound its objects' names (metadata.name is the only metadata field it may constrain)."""
    name_schema = ((schema.get('properties') or {}).get('metadata') or {}).get('properties', {}).get('name')
    name = meta(obj).get('name')
    return openapi_rules.validate(name, name_schema, 'metadata.name') if name_schema and name else []


def _without_metadata(obj: Body) -> Body:
    # Metadata is ObjectMeta's business (metadata.validate), whatever the CRD's schema says of it.
    return {key: value for key, value in obj.items() if key != 'metadata'}
