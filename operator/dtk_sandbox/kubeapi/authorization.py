"""Who asked for what, and RBAC-style refusals: the verb of a request as kube-apiserver names it,
a log of the accesses each client made, a set of denied (verb, resource) pairs, and RBAC enforced
from roles for chosen clients; refusals are 403s in kube-apiserver's words.

The emulator authorises everyone by default; tests deny a verb to show how the operator behaves
when its ServiceAccount lacks a permission (a cluster's most common misconfiguration), or bind a
client to a chart's rendered roles to prove they are enough.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import attrs
from aiohttp import web
from multidict import MultiMapping

from dtk_sandbox.kubeapi import errors, urls
from dtk_sandbox.kubeapi.rbac import Access, Grant, allowed
from dtk_sandbox.kubeapi.watching import TRUTHY

USER = 'system:serviceaccount:default:dtk-operator'  # who the refusal names (the emulator has no users)


def verb_of(method: str, path: urls.ResourcePath, query: MultiMapping[str]) -> str:
    """get, list, watch, create, update, patch, delete or deletecollection."""
    if method == 'GET':
        if path.watch_prefix or query.get('watch') in TRUTHY:
            return 'watch'
        return 'get' if path.name is not None else 'list'
    if method == 'DELETE':
        return 'delete' if path.name is not None else 'deletecollection'
    return {'POST': 'create', 'PUT': 'update', 'PATCH': 'patch'}.get(method, method.lower())


def resource_of(path: urls.ResourcePath) -> str:
    """As RBAC rules name it: `tasks`, or `tasks/status` for a subresource."""
    return path.plural + (f'/{path.subresource}' if path.subresource else '')


def access_of(request: web.BaseRequest) -> Access:
    """The request as the authorizer sees it (kube-apiserver's RequestInfo)."""
    path = urls.parse(request.path)
    if path is None:  # discovery, OpenAPI, health: a non-resource URL; its verb is the method's name
        return Access(verb=request.method.lower(), path=request.path)
    return Access(verb=verb_of(request.method, path, request.query), group=path.group, resource=path.plural,
                  subresource=path.subresource or '', namespace=path.namespace or '', name=path.name or '')


def requester_of(request: web.BaseRequest) -> str:
    """Who is asking, as far as the emulator can tell without users: the product of the User-Agent
    (`kopf`, `dtk-operator`, `kubectl`, `kubectl-dtk`, `OpenAPI-Generator`, ...)."""
    return request.headers.get('User-Agent', '').split('/', 1)[0].strip()


@attrs.define
class AccessLog:
    """The distinct accesses each requester made (a set: a long-running sandbox keeps no request log).
    Written from the serving loop, read from a test's thread: guarded."""

    _seen: dict[str, set[Access]] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def record(self, requester: str, access: Access) -> None:
        with self._lock:
            self._seen.setdefault(requester, set()).add(access)

    def accesses(self, requesters: Iterable[str]) -> set[Access]:
        with self._lock:
            return {access for requester in requesters for access in self._seen.get(requester, ())}

    def entries(self) -> list[tuple[str, Access]]:
        """Every (requester, access) seen, sorted."""
        with self._lock:
            return sorted((requester, access) for requester, seen in self._seen.items() for access in seen)


@attrs.define
class Denials:
    """(verb, group, resource) triples refused with 403; `resource` may name a subresource
    (`serviceinstances/status`). Changed from a test's thread while the server runs: guarded."""

    _denied: set[tuple[str, str, str]] = attrs.field(factory=set)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def deny(self, verb: str, group: str, resource: str) -> None:
        with self._lock:
            self._denied.add((verb, group, resource))

    def allow(self, verb: str, group: str, resource: str) -> None:
        with self._lock:
            self._denied.discard((verb, group, resource))

    def check(self, verb: str, path: urls.ResourcePath) -> None:
        resource = resource_of(path)
        with self._lock:
            denied = (verb, path.group, resource) in self._denied
        if denied:
            access = Access(verb=verb, group=path.group, resource=path.plural, subresource=path.subresource or '',
                            namespace=path.namespace or '', name=path.name or '')
            raise errors.forbidden(forbidden_message(USER, access))


@attrs.define
class Enforcement:
    """RBAC for chosen requesters: their requests pass only as their grants allow (kube-apiserver's
    RBAC authorizer, :mod:`.rbac`); everyone else's pass. Every refusal is kept, so that a test can
    show that none happened. Bound from a test's thread while the server runs: guarded."""

    _bound: dict[str, tuple[str, tuple[Grant, ...]]] = attrs.field(factory=dict)  # requester -> (user, grants)
    _refused: list[tuple[str, Access]] = attrs.field(factory=list)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def bind(self, requesters: Iterable[str], grants: Sequence[Grant], *, user: str) -> None:
        with self._lock:
            for requester in requesters:
                self._bound[requester] = (user, tuple(grants))

    def check(self, requester: str, access: Access) -> None:
        with self._lock:
            bound = self._bound.get(requester)
            if bound is None or allowed(bound[1], access):
                return
            self._refused.append((requester, access))
        raise errors.forbidden(forbidden_message(bound[0], access))

    def refused(self) -> list[tuple[str, Access]]:
        with self._lock:
            return list(self._refused)


def forbidden_message(user: str, access: Access) -> str:
    """kube-apiserver's words: `tasks.dtk.io "x" is forbidden: User "u" cannot get resource "tasks" in
    API group "dtk.io" in the namespace "ns"`, or `forbidden: User "u" cannot get path "/apis"`."""
    if access.path:
        return f'forbidden: User "{user}" cannot {access.verb} path "{access.path}"'
    qualified = f'{access.resource}.{access.group}' if access.group else access.resource
    subject = f'{qualified} "{access.name}"' if access.name else qualified
    scope = f' in the namespace "{access.namespace}"' if access.namespace else ' at the cluster scope'
    return (f'{subject} is forbidden: User "{user}" cannot {access.verb} resource "{access.combined_resource}" '
            f'in API group "{access.group}"{scope}')
