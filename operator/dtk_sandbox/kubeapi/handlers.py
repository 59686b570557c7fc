"""
The verbs of resource endpoints: HTTP in, store calls, the representation the client accepts out.
"""
import base64
import dataclasses
import datetime
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from dtk_sandbox.kubeapi import errors, jsonpatch, objects, patches, protobuf, selectors, views, watching
from dtk_sandbox.kubeapi.admission import FieldValidation, WriteOptions
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.removal import DeleteOptions
from dtk_sandbox.kubeapi.specs import ResourceSpec
from dtk_sandbox.kubeapi.store import Mutation, Store
from dtk_sandbox.kubeapi.urls import ResourcePath

_JSON_TYPES = ('', 'application/json', 'application/merge-patch+json', 'application/json-patch+json',
               'application/strategic-merge-patch+json')


@dataclasses.dataclass(frozen=True)
class Call:
    """One request to a resource endpoint, resolved to the resource it addresses."""
    request: web.BaseRequest
    spec: ResourceSpec
    path: ResourcePath
    body: bytes
    now: datetime.datetime  # for the AGE of table rows

    @property
    def dry_run(self) -> bool:
        return bool(self.request.query.get('dryRun'))

    @property
    def content_type(self) -> str:
        # Not aiohttp's content_type: it says application/octet-stream when the header is absent,
        # and clients such as pykube send JSON without the header (the real server accepts that).
        return self.request.headers.get('Content-Type', '').partition(';')[0].strip().lower()

    def json(self) -> Any:
        if self.content_type == protobuf.CONTENT_TYPE:  # `kubectl create namespace`: see protobuf's docstring
            return protobuf.decode(self.spec, self.body)
        if self.content_type not in _JSON_TYPES:
            raise errors.unsupported_media_type(self.content_type)
        try:
            return json.loads(self.body or b'null')
        except ValueError as error:
            raise errors.bad_request(f'the body of the request is not valid JSON: {error}') from None

    def render(self, obj: Body) -> Body:
        obj = objects.with_api_version(obj, self.spec)
        view = views.negotiate(self.request.headers.get('Accept', ''))
        if view is views.View.TABLE:
            return views.table(self.spec, [obj], rv=None, now=self.now,
                               include_object=self.request.query.get('includeObject', 'Metadata'))
        return views.partial(obj) if view is views.View.PARTIAL else obj


class Handlers:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def handle(self, call: Call) -> web.StreamResponse:
        method, name = call.request.method, call.path.name
        if method == 'GET' and self._is_watch(call):
            return await watching.serve(call.request, store=self._store, spec=call.spec,
                                        namespace=call.path.namespace, selector=self._selector(call),
                                        render=call.render)
        options = WriteOptions(field_validation=FieldValidation.parse(call.request.query.get('fieldValidation', '')))
        if name is not None:
            return _json(self._object_verb(call, name, options), warnings=options.warnings)
        if method == 'GET':
            return _json(self._list(call, self._selector(call)))
        if method == 'POST':
            created = self._store.create(call.spec, call.path.namespace, self._object_body(call), dry_run=call.dry_run,
                                         options=options)
            return _json(call.render(created), status=201, warnings=options.warnings)
        if method == 'DELETE':
            return _json(self._delete_collection(call, self._selector(call)))
        raise errors.method_not_allowed()

    def _object_verb(self, call: Call, name: str, options: WriteOptions) -> Body:
        spec, namespace, method = call.spec, call.path.namespace, call.request.method
        if method == 'GET':
            return call.render(self._store.get(spec, namespace, name))
        if method in ('PUT', 'PATCH'):
            mutation = self._replacement(call) if method == 'PUT' else self._patch(call)
            return call.render(self._store.update(spec, namespace, name, mutation, subresource=call.path.subresource,
                                                  dry_run=call.dry_run, options=options))
        if method == 'DELETE' and call.path.subresource is None:
            return call.render(self._store.delete(spec, namespace, name, self._delete_options(call),
                                                  dry_run=call.dry_run))
        raise errors.method_not_allowed()

    def _list(self, call: Call, selector: selectors.Selector) -> Body:
        objs = [obj for obj in self._store.list_objects(call.spec, call.path.namespace) if selector.matches(obj)]
        page, token = _paginate(objs, call.request.query.get('limit', ''), call.request.query.get('continue', ''))
        rv = str(self._store.resource_version)
        page = [objects.with_api_version(obj, call.spec) for obj in page]
        view = views.negotiate(call.request.headers.get('Accept', ''))
        if view is views.View.TABLE:
            result = views.table(call.spec, page, rv=rv, now=call.now,
                                 include_object=call.request.query.get('includeObject', 'Metadata'))
        elif view is views.View.PARTIAL:
            result = views.partial_list(page, rv=rv)
        else:
            result = {'kind': call.spec.list_kind, 'apiVersion': call.spec.api_version,
                      'metadata': {'resourceVersion': rv}, 'items': page}
        if token:
            result['metadata']['continue'] = token
        return result

    def _delete_collection(self, call: Call, selector: selectors.Selector) -> Body:
        options = self._delete_options(call)
        for obj in self._store.list_objects(call.spec, call.path.namespace):
            if selector.matches(obj) and self._store.find(self._store.ref(call.spec, obj)) is not None:
                self._store.delete(call.spec, call.path.namespace, objects.meta(obj)['name'], options,
                                   dry_run=call.dry_run)
        return errors.status_body(code=200, reason='', message='')

    def _object_body(self, call: Call) -> Body:
        body = call.json()
        if not isinstance(body, dict):
            raise errors.bad_request('the body of the request must be an object')
        return body

    def _replacement(self, call: Call) -> Mutation:
        body = self._object_body(call)
        return lambda old: body

    def _patch(self, call: Call) -> Mutation:
        content_type, body = call.content_type, call.json()
        if content_type == patches.JSON_PATCH:
            return lambda old: jsonpatch.apply(old, body)
        if content_type == patches.MERGE_PATCH:
            return lambda old: patches.merge_patch(old, body)
        if content_type == patches.STRATEGIC_PATCH and call.spec.builtin:
            return lambda old: patches.strategic_merge_patch(old, body)
        # A CRD declares no patch strategies: the real server refuses strategic merge for custom resources.
        accepted = patches.BUILTIN_PATCH_TYPES if call.spec.builtin else patches.CUSTOM_PATCH_TYPES
        raise errors.unsupported_patch_type(accepted)

    def _delete_options(self, call: Call) -> DeleteOptions:
        body = call.json() if call.body else None
        options = DeleteOptions.from_body(body)
        policy = call.request.query.get('propagationPolicy')
        return dataclasses.replace(options, propagation=policy) if policy else options

    @staticmethod
    def _selector(call: Call) -> selectors.Selector:
        query = call.request.query
        selector = selectors.parse(query.get('labelSelector', ''), query.get('fieldSelector', ''))
        if call.path.name is not None:  # a watch of one object: /widgets/w1?watch=true
            selector = dataclasses.replace(selector, fields=(*selector.fields, ('metadata.name', call.path.name, True)))
        return selector

    @staticmethod
    def _is_watch(call: Call) -> bool:
        return call.path.watch_prefix or call.request.query.get('watch', '') in watching.TRUTHY


def _paginate(objs: list[Body], limit: str, token: str) -> tuple[list[Body], str]:
    """A page after the continue token; the token is the last (namespace, name) served."""
    if token:
        try:
            after = tuple(json.loads(base64.urlsafe_b64decode(token.encode())))
        except (ValueError, TypeError):
            raise errors.ApiError(code=410, reason='Expired', message='the continue token is invalid') from None
        objs = [obj for obj in objs if _sort_key(obj) > after]
    if not limit.isdigit() or int(limit) <= 0 or len(objs) <= int(limit):
        return objs, ''
    page = objs[:int(limit)]
    return page, base64.urlsafe_b64encode(json.dumps(list(_sort_key(page[-1]))).encode()).decode()


def _sort_key(obj: Body) -> tuple[str, str]:
    metadata = objects.meta(obj)
    return (metadata.get('namespace') or '', metadata.get('name') or '')


def _json(body: Body, *, status: int = 200, warnings: Sequence[str] = ()) -> web.Response:
    response = web.Response(text=json.dumps(body, separators=(',', ':')), status=status,
                            content_type='application/json')
    for warning in warnings:  # RFC 7234 warn-code 299 ("miscellaneous persistent"), as kube-apiserver sends
        response.headers.add('Warning', f'299 - {json.dumps(warning)}')
    return response
