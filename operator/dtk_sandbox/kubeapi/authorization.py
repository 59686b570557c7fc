"""RBAC-style refusals: the verb of a request as kube-apiserver names it, and a set of denied
(verb, resource) pairs answered with a 403 in kube-apiserver's words.

The emulator authorises everyone by default; tests deny a verb to show how the operator behaves
when its ServiceAccount lacks a permission (a cluster's most common misconfiguration).
"""
from __future__ import annotations

import threading

import attrs
from multidict import MultiMapping

from dtk_sandbox.kubeapi import errors, urls

USER = 'system:serviceaccount:default:dtk-operator'  # who the refusal names (the emulator has no users)


def verb_of(method: str, path: urls.ResourcePath, query: MultiMapping[str]) -> str:
    """get, list, watch, create, update, patch, delete or deletecollection."""
    if method == 'GET':
        if path.watch_prefix or query.get('watch') in ('true', '1'):
            return 'watch'
        return 'get' if path.name is not None else 'list'
    if method == 'DELETE':
        return 'delete' if path.name is not None else 'deletecollection'
    return {'POST': 'create', 'PUT': 'update', 'PATCH': 'patch'}.get(method, method.lower())


def resource_of(path: urls.ResourcePath) -> str:
    """As RBAC rules name it: `tasks`, or `tasks/status` for a subresource."""
    return path.plural + (f'/{path.subresource}' if path.subresource else '')


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
            raise errors.forbidden(_message(verb, path, resource))


def _message(verb: str, path: urls.ResourcePath, resource: str) -> str:
    # kube-apiserver: `assemblies.dtk.io "x" is forbidden: User "u" cannot get resource
    # "assemblies" in API group "dtk.io" in the namespace "ns"`
    qualified = f'{path.plural}.{path.group}' if path.group else path.plural
    subject = f'{qualified} "{path.name}"' if path.name else qualified
    scope = f' in the namespace "{path.namespace}"' if path.namespace else ' at the cluster scope'
    return (f'{subject} is forbidden: User "{USER}" cannot {verb} resource "{resource}" in API group '
            f'"{path.group}"{scope}')
