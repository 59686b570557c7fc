"""
Admission of custom resources: what kube-apiserver does with a CRD's structural schema on every
create, update, patch and ``/status`` write, in its order.

1. decode: fields the schema does not declare are pruned; ``fieldValidation`` decides whether
   that is silent (Ignore), a ``Warning`` header each (Warn, the default) or a 400 (Strict);
2. defaults are applied (and nulls of non-nullable fields dropped);
3. validation: metadata (name, labels), the OpenAPI schema, list-type invariants, then the
   ``x-kubernetes-validations`` CEL rules (skipped after a blocking error, as the real server);
4. the stored object's size is checked against etcd's request limit.

The store calls :func:`admit_schema` once per write, between applying the request and storing.
"""
import json

from dtk_sandbox.kubeapi import errors
from dtk_sandbox.kubeapi.admission import cel_rules, listtypes, metadata, openapi_rules, structural
from dtk_sandbox.kubeapi.admission.fielderrors import BLOCKING, ErrorType, FieldError, invalid
from dtk_sandbox.kubeapi.admission.options import FieldValidation, WriteOptions
from dtk_sandbox.kubeapi.objects import Body, meta
from dtk_sandbox.kubeapi.specs import ResourceSpec

__all__ = ['FieldValidation', 'WriteOptions', 'admit_schema', 'admit_size']

# etcd's default --max-request-bytes (1.5 MiB): a bigger object cannot be stored.
MAX_OBJECT_BYTES = 1_572_864
_UNCHECKED_RULES = FieldError(ErrorType.INVALID, '<nil>', None,
                              'some validation rules were not checked because the object was invalid; '
                              'correct the existing errors to complete validation')


def admit_schema(spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions) -> Body:
    """The object as the real server would store it; raises the real server's refusal."""
    schema = spec.schema
    if schema is None or spec.builtin:
        return new
    new, unknown = structural.prune_object(new, schema)
    _report_unknown(spec, unknown, options)
    new = structural.apply_defaults(new, schema)
    content = _without_metadata(new)
    found = [*metadata.validate(meta(new)), *openapi_rules.validate(content, schema, ''),
             *listtypes.validate(content, schema, '')]
    if any(error.type in BLOCKING for error in found):
        found.append(_UNCHECKED_RULES)
    else:
        previous = _without_metadata(old) if old is not None else cel_rules.NOT_CORRELATED
        found += cel_rules.validate(content, schema, '', previous)
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


def _without_metadata(obj: Body) -> Body:
    # Metadata is ObjectMeta's business (metadata.validate), whatever the CRD's schema says of it.
    return {key: value for key, value in obj.items() if key != 'metadata'}
