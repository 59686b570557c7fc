"""The plugin's only door to the Kubernetes API: pykube-ng's light HTTP client, raw JSON paths.

pykube keeps start-up fast (no kubernetes client, no kopf); plain paths keep us off its object
factories, which would discover API groups on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

import pykube

from dtk_api import resources as r

Body = dict[str, Any]


class ApiError(RuntimeError):
    """The API answered with an error (exit code 2), or the object is missing (exit code 4)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


class DtkClient:
    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None,
                 namespace: str | None = None) -> None:
        config = pykube.KubeConfig.from_file(kubeconfig) if kubeconfig else pykube.KubeConfig.from_env()
        if context:
            config.set_current_context(context)
        self.api = pykube.HTTPClient(config)
        self.namespace = namespace or config.namespace or "default"

    def _request(self, method: str, plural: str, *, name: str = "", params: Mapping[str, str] | None = None,
                 body: Mapping[str, Any] | None = None, all_namespaces: bool = False,
                 stream: bool = False, timeout: float = 30.0, content_type: str = "") -> Any:
        url = f"{plural}/{name}" if name else plural
        namespace = None if all_namespaces else self.namespace  # None: pykube builds a cluster-wide path
        kwargs: dict[str, Any] = {"url": url, "version": r.API_VERSION, "namespace": namespace,
                                  "params": dict(params or {}), "stream": stream, "timeout": (5.0, timeout)}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["headers"] = {"Content-Type": content_type or "application/json"}
        try:
            response = getattr(self.api.session, method)(**self.api.get_kwargs(**kwargs))
        except OSError as error:  # requests' connection errors are OSErrors too
            raise ApiError(f"cannot reach the API server: {error}") from error
        if response.status_code >= 400:
            detail = _status_message(response)
            raise ApiError(detail, not_found=response.status_code == 404)
        return response

    def get(self, plural: str, name: str) -> Body:
        return cast(Body, self._request("get", plural, name=name).json())

    def list(self, plural: str, *, labels: Mapping[str, str] | None = None, all_namespaces: bool = False) -> Body:
        params = {"labelSelector": ",".join(f"{k}={v}" for k, v in (labels or {}).items())} if labels else {}
        return cast(Body, self._request("get", plural, params=params, all_namespaces=all_namespaces).json())

    def create(self, plural: str, body: Mapping[str, Any]) -> Body:
        return cast(Body, self._request("post", plural, body=body).json())

    def patch(self, plural: str, name: str, patch: Mapping[str, Any]) -> Body:
        return cast(Body, self._request("patch", plural, name=name, body=patch,
                                        content_type="application/merge-patch+json").json())

    def delete(self, plural: str, name: str) -> Body:
        return cast(Body, self._request("delete", plural, name=name).json())

    def watch(self, plural: str, *, name: str, resource_version: str, timeout_seconds: int) -> Iterator[Body]:
        """One watch connection on one object; ends when the server closes it after the timeout."""
        params = {"watch": "true", "fieldSelector": f"metadata.name={name}", "timeoutSeconds": str(timeout_seconds),
                  "allowWatchBookmarks": "false"}
        if resource_version:
            params["resourceVersion"] = resource_version
        response = self._request("get", plural, params=params, stream=True, timeout=timeout_seconds + 10)
        for line in response.iter_lines():
            if line:
                yield cast(Body, json.loads(line))


def _status_message(response: Any) -> str:
    try:
        return str(response.json().get("message") or response.text)
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
