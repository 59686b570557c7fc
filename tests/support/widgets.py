"""The emulator tests' made-up custom resource (example.io/v1 widgets) and calls on it."""

from __future__ import annotations

import kubernetes.client

GROUP, VERSION, PLURAL = 'example.io', 'v1', 'widgets'
MERGE = 'application/merge-patch+json'


def widget(name: str, **spec: object) -> dict[str, object]:
    return {'apiVersion': 'example.io/v1', 'kind': 'Widget', 'metadata': {'name': name}, 'spec': dict(spec)}


def create(custom: kubernetes.client.CustomObjectsApi, body: dict[str, object], ns: str = 'default') -> dict:
    return custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)


def get(custom: kubernetes.client.CustomObjectsApi, name: str, ns: str = 'default') -> dict:
    return custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)


def merge(custom: kubernetes.client.CustomObjectsApi, name: str, patch: object, *, status: bool = False) -> dict:
    fn = custom.patch_namespaced_custom_object_status if status else custom.patch_namespaced_custom_object
    return fn(GROUP, VERSION, 'default', PLURAL, name, patch, _content_type=MERGE)
