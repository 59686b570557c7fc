"""
From an HTTP request to the endpoint that serves it: health, discovery, or a resource verb.
Every refusal becomes a ``v1 Status`` response with the matching HTTP code.
"""
import asyncio
import json

from aiohttp import web

from dtk_sandbox.kubeapi import discovery, errors, openapi, urls
from dtk_sandbox.kubeapi.authorization import Denials, resource_of, verb_of
from dtk_sandbox.kubeapi.handlers import Call, Handlers
from dtk_sandbox.kubeapi.latency import Latency
from dtk_sandbox.kubeapi.specs import ResourceSpec
from dtk_sandbox.kubeapi.store import Store

_HEALTH_PATHS = ('/healthz', '/livez', '/readyz')


class Router:
    def __init__(self, store: Store, denials: Denials | None = None, latency: Latency | None = None) -> None:
        self._store = store
        self._denials = denials or Denials()
        self._latency = latency or Latency()
        self._handlers = Handlers(store)

    async def respond(self, request: web.BaseRequest, body: bytes) -> web.StreamResponse:
        try:
            return await self._route(request, body)
        except errors.ApiError as error:
            return error_response(error)

    async def _route(self, request: web.BaseRequest, body: bytes) -> web.StreamResponse:
        path = urls.parse(request.path)
        if path is not None:
            verb = verb_of(request.method, path, request.query)
            self._denials.check(verb, path)
            if delay := self._latency.delay(verb, path.group, resource_of(path)):
                await asyncio.sleep(delay)
            call = Call(request=request, spec=self._resolve(path), path=path, body=body, now=self._store.clock())
            return await self._handlers.handle(call)
        if request.method != 'GET':
            raise errors.method_not_allowed()
        if request.path.rstrip('/') in _HEALTH_PATHS:
            return web.Response(text='ok')
        document = discovery.document(self._store.registry, request.path)
        if document is None:
            document = openapi.document(self._store.registry, request.path)
        if document is None:
            raise errors.path_not_found(request.path)
        return web.Response(text=json.dumps(document), content_type='application/json')

    def _resolve(self, path: urls.ResourcePath) -> ResourceSpec:
        """The resource a URL addresses, if the URL's shape fits it (scope, subresource)."""
        spec = self._store.registry.find(path.group, path.version, path.plural)
        unfit = spec is None or (
            (path.namespace is not None and not spec.namespaced)
            or (spec.namespaced and path.name is not None and path.namespace is None)
            or path.subresource not in (None, 'status')
            or (path.subresource == 'status' and not spec.has_status)
        )
        if spec is None or unfit:
            raise errors.path_not_found(f'{path.plural}.{path.group}/{path.version}' if path.group else path.plural)
        return spec


def error_response(error: errors.ApiError) -> web.Response:
    return web.Response(text=json.dumps(error.as_status()), status=error.code, content_type='application/json')
