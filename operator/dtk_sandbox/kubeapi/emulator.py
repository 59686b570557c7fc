"""
The Kubernetes API emulator: kmock's ``KubernetesEmulator`` with the realism a real operator,
the official clients and kubectl need (see the package docstring for the list).

It is an aiohttp low-level handler (``await emulator(request)``): serve it with
:mod:`dtk_sandbox.kubeapi.serving`. All state lives in :attr:`KubeApiEmulator.store`, which is
not thread-safe: touch it only from the serving loop (``ServedApi.call`` does that for you).
"""
import datetime
import logging
import pathlib
from collections.abc import Callable

import attrs
import kmock
from aiohttp import web

from dtk_sandbox.kubeapi import admission, builtins, crds, errors, overrides
from dtk_sandbox.kubeapi.authorization import AccessLog, Denials, Enforcement, access_of, requester_of
from dtk_sandbox.kubeapi.latency import Latency
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.registry import Registry
from dtk_sandbox.kubeapi.router import Router, error_response
from dtk_sandbox.kubeapi.specs import ResourceSpec, core_specs
from dtk_sandbox.kubeapi.store import Store

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACES = ('default', 'kube-system')
# kube-apiserver's --max-request-bytes default (3 MiB): a bigger body is refused before decoding.
MAX_REQUEST_BYTES = 3 * 1024 * 1024
DEFAULT_HISTORY_LIMIT = 10_000  # watch events kept for resuming watches; older resourceVersions get 410


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


async def _read_body(request: web.BaseRequest) -> bytes:
    # Not request.read(): aiohttp's own limit (1 MiB) is lower than the real server's and answers
    # with a plain-text 413 that clients cannot decode.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise errors.entity_too_large(MAX_REQUEST_BYTES)
        chunks.append(chunk)
    return b''.join(chunks)


def _replacing_with(body: Body) -> Callable[[Body], Body]:
    # An unconditional replacement: the body carries no resourceVersion, so no conflict is possible.
    return lambda old: {**body, 'metadata': {key: value for key, value in body.get('metadata', {}).items()
                                             if key != 'resourceVersion'}}


@attrs.define(kw_only=True)
class KubeApiEmulator(kmock.KubernetesEmulator):
    clock: Callable[[], datetime.datetime] = utc_now
    history_limit: int = DEFAULT_HISTORY_LIMIT
    namespaces: tuple[str, ...] = DEFAULT_NAMESPACES  # pre-created, as on a real cluster
    # Custom resources pruned, defaulted and validated against their CRD's schema (CEL included),
    # as kube-apiserver does. Off only to prove the operator's own defences against bad objects
    # (names and labels are still checked: a real server does so whatever the CRD says).
    validation: bool = True
    # Requests refused with 403 as RBAC would (tests: an operator missing a permission).
    denials: Denials = attrs.Factory(Denials)
    # The distinct accesses each client made, by User-Agent product (tests: what the operator uses).
    # None (the default): nothing kept, so a long-running sandbox grows no log.
    accesses: AccessLog | None = None
    # RBAC from roles for chosen clients, answered with 403 (tests: a chart's roles are enough).
    enforcement: Enforcement = attrs.Factory(Enforcement)
    # Requests answered late (tests: a loaded server that applies one client's requests out of order).
    latency: Latency = attrs.Factory(Latency)
    store: Store = attrs.field(init=False)
    _router: Router = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.store = Store(registry=Registry(core_specs()), clock=self.clock, history_limit=self.history_limit)
        builtins.install(self.store)
        if self.validation:
            schemas = admission.SchemaAdmission()
            self.store.admission.append(schemas.admit)
            self.store.observers.append(schemas.remember)
        else:
            self.store.admission.append(admission.admit_metadata)
        self.store.admission.append(admission.admit_size)  # etcd's limit holds whatever else is checked
        self.store.observers.append(self._on_change)
        namespace_spec = self.spec('', 'v1', 'namespaces')
        for name in self.namespaces:
            self.store.create(namespace_spec, None, {'metadata': {'name': name}})
        self._router = Router(self.store, self.denials, self.latency)
        self._mirror_resources()

    async def __call__(self, raw_request: web.BaseRequest) -> web.StreamResponse:
        requester, access = requester_of(raw_request), access_of(raw_request)
        if self.accesses is not None:
            self.accesses.record(requester, access)
        try:
            self.enforcement.check(requester, access)  # authorised before the body is read, as kube-apiserver does
            body = await _read_body(raw_request)
        except errors.ApiError as error:
            return error_response(error)
        try:
            response = await overrides.respond(self, raw_request, body)
            if response is None:
                response = await self._router.respond(raw_request, body)
            logger.debug('%s %s -> %s', raw_request.method, raw_request.path_qs, response.status)
            return response
        except Exception as error:  # a bug of ours: answer as the real server does, and say where
            logger.exception('The emulator failed on %s %s', raw_request.method, raw_request.path_qs)
            return error_response(errors.ApiError(code=500, reason='InternalError', message=repr(error)))

    def spec(self, group: str, version: str, plural: str) -> ResourceSpec:
        spec = self.store.registry.find(group, version, plural)
        if spec is None:
            raise LookupError(f'the resource {plural}.{version}.{group} is not served')
        return spec

    def install_crds(self, directory: str | pathlib.Path) -> list[str]:
        """Create (or replace) every CRD found in the YAML files of a directory; returns their names."""
        crd_spec = self.spec('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')
        names = []
        for crd in crds.load_crds(directory):
            name = crd['metadata']['name']
            if self.store.find((crd_spec.storage_key, '', name)) is None:
                self.store.create(crd_spec, None, crd)
            else:
                self.store.update(crd_spec, None, name, _replacing_with(crd))
            names.append(name)
        return names

    def close_watches(self) -> None:
        """End all watch streams (before stopping the server, so that it does not wait for them)."""
        self.store.changes.close_all()

    def _on_change(self, spec: ResourceSpec, old: Body | None, new: Body | None) -> None:
        if spec.storage_key == builtins.CRDS:
            self._mirror_resources()

    def _mirror_resources(self) -> None:
        # Keep kmock's own view of the served resources (``emulator.resources``) truthful.
        self.resources.clear()
        for spec in self.store.registry.all():
            self.resources[kmock.resource(spec.group, spec.version, spec.plural)] = kmock.ResourceInfo(
                namespaced=spec.namespaced, kind=spec.kind, singular=spec.singular, verbs=set(),
                shortnames=set(spec.short_names), categories=set(spec.categories),
                subresources={'status'} if spec.has_status else set())
