"""
API errors as a real kube-apiserver reports them: an HTTP code plus a ``v1 Status`` body.

Clients branch on ``reason`` and ``code`` (kopf retries 409s, kubectl prints ``message``,
the kubernetes client raises ``ApiException(status=...)``), so each constructor below
mirrors the wording and reason of the real server for the same situation.
"""
from typing import Any

from dtk_sandbox.kubeapi.specs import ResourceSpec


class ApiError(Exception):
    """A request the API refuses; permanent for that request (retrying it unchanged fails again)."""

    def __init__(self, *, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def as_status(self) -> dict[str, Any]:
        return status_body(code=self.code, reason=self.reason, message=self.message, details=self.details)


def status_body(*, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        'kind': 'Status',
        'apiVersion': 'v1',
        'metadata': {},
        'status': 'Failure' if code >= 400 else 'Success',
        'message': message,
        'reason': reason,
        'code': code,
    }
    if not reason:
        del body['reason']  # the real server omits an unknown reason (omitempty)
    if details:
        body['details'] = details
    return body


def _qualified(spec: ResourceSpec) -> str:
    # The real server names resources as "widgets.example.io", or just "configmaps" for the core group.
    return f'{spec.plural}.{spec.group}' if spec.group else spec.plural


def _details(spec: ResourceSpec, name: str) -> dict[str, Any]:
    return {'name': name, 'group': spec.group, 'kind': spec.plural}


def not_found(spec: ResourceSpec, name: str) -> ApiError:
    return ApiError(code=404, reason='NotFound', message=f'{_qualified(spec)} "{name}" not found',
                    details=_details(spec, name))


def already_exists(spec: ResourceSpec, name: str) -> ApiError:
    return ApiError(code=409, reason='AlreadyExists', message=f'{_qualified(spec)} "{name}" already exists',
                    details=_details(spec, name))


def conflict(spec: ResourceSpec, name: str) -> ApiError:
    message = (f'Operation cannot be fulfilled on {_qualified(spec)} "{name}": the object has been modified;'
               ' please apply your changes to the latest version and try again')
    return ApiError(code=409, reason='Conflict', message=message, details=_details(spec, name))


def invalid(spec: ResourceSpec, name: str, message: str) -> ApiError:
    # apierrors.NewInvalid names the kind as Kind.group ("Namespace", "Task.dtk.io").
    qualified_kind = f'{spec.kind}.{spec.group}' if spec.group else spec.kind
    return ApiError(code=422, reason='Invalid', message=f'{qualified_kind} "{name}" is invalid: {message}',
                    details={'name': name, 'group': spec.group, 'kind': spec.kind})


def unprocessable(message: str) -> ApiError:
    return ApiError(code=422, reason='Invalid', message=message)


def bad_request(message: str) -> ApiError:
    return ApiError(code=400, reason='BadRequest', message=message)


def entity_too_large(limit: int) -> ApiError:
    return ApiError(code=413, reason='RequestEntityTooLarge', message=f'Request entity too large: limit is {limit}')


def forbidden(message: str) -> ApiError:
    return ApiError(code=403, reason='Forbidden', message=message)


def expired(message: str) -> ApiError:
    # A watch from a resourceVersion older than the retained history: clients must re-list.
    return ApiError(code=410, reason='Expired', message=message)


def method_not_allowed(message: str = 'the server does not allow this method on the requested resource') -> ApiError:
    return ApiError(code=405, reason='MethodNotAllowed', message=message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(code=415, reason='UnsupportedMediaType',
                    message=f'the body of the request was in an unknown format; '
                            f'accepted media types include: application/json, application/json-patch+json, '
                            f'application/merge-patch+json, application/strategic-merge-patch+json '
                            f'(got {content_type!r})')


def unsupported_patch_type(accepted: tuple[str, ...]) -> ApiError:
    # negotiation.NewUnsupportedMediaTypeError, as the PATCH handler words it.
    return ApiError(code=415, reason='UnsupportedMediaType',
                    message=f'the body of the request was in an unknown format - accepted media types include: '
                            f'{", ".join(accepted)}')


def path_not_found(path: str) -> ApiError:
    return ApiError(code=404, reason='NotFound', message=f'the server could not find the requested resource ({path})')
