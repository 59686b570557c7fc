"""The plugin's only door to the Kubernetes API: kube-dtk's objects as JSON over plain paths.

The kubeconfig is read by kubeconfig.py; requests go through transport.py (the standard library
for the common credentials, pykube-ng's client for credential plugins). Plain paths keep us off
object factories, which would discover API groups on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

from dtk_api import resources as r
from kubectl_dtk.api.errors import ApiError
from kubectl_dtk.api.kubeconfig import KubeconfigError, load_connection
from kubectl_dtk.api.transport import PykubeTransport, Response, StdTransport

Body = dict[str, Any]
REQUEST_TIMEOUT_SECONDS = 30.0


class DtkClient:
    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None,
                 namespace: str | None = None, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        try:
            connection = load_connection(kubeconfig, context)
        except (OSError, ValueError, KeyError, KubeconfigError) as error:
            raise ApiError(f"cannot use the kubeconfig: {error}") from error
        std = StdTransport.supports(connection)
        self.transport = StdTransport(connection) if std else PykubeTransport(connection)
        self.namespace = namespace or connection.namespace
        self.timeout = timeout  # seconds, for each request but a watch (which has its own)

    def _path(self, plural: str, name: str, all_namespaces: bool) -> str:
        scope = "" if all_namespaces else f"/namespaces/{self.namespace}"
        return f"/apis/{r.API_VERSION}{scope}/{plural}" + (f"/{name}" if name else "")

    def _request(self, method: str, plural: str, *, name: str = "", params: Mapping[str, str] | None = None,
                 body: Mapping[str, Any] | None = None, all_namespaces: bool = False,
                 timeout: float | None = None, content_type: str = "application/json") -> Response:
        return self._send(method, self._path(plural, name, all_namespaces), params=params, body=body,
                          timeout=self.timeout if timeout is None else timeout, content_type=content_type)

    def _send(self, method: str, path: str, *, params: Mapping[str, str] | None, body: Mapping[str, Any] | None,
              timeout: float, content_type: str = "application/json") -> Response:
        try:
            response = self.transport.request(
                method, path, params=params or {}, body=None if body is None else json.dumps(body),
                content_type=content_type, timeout=timeout)
        except OSError as error:  # refused, reset, TLS, timeouts (requests' errors are OSErrors too)
            raise ApiError(f"cannot reach the API server: {error}") from error
        if response.status_code >= 400:
            raise ApiError(_status_message(response), not_found=response.status_code == 404)
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

    def read(self, path: str, *, params: Mapping[str, str] | None = None) -> Body:
        """GET of any API path (`/api/v1/namespaces`, `/apis/apps/v1/deployments`): for the few
        reads outside kube-dtk's own kinds."""
        return cast(Body, self._send("get", path, params=params, body=None, timeout=self.timeout).json())

    def namespace_names(self) -> tuple[str, ...]:
        """The cluster's namespaces (for completing -n; needs `list namespaces`)."""
        return tuple(str(item["metadata"]["name"]) for item in self.read("/api/v1/namespaces").get("items", []))

    def watch(self, plural: str, *, name: str, resource_version: str, timeout_seconds: int) -> Iterator[Body]:
        """One watch connection on one object; ends when the server closes it after the timeout."""
        params = {"watch": "true", "fieldSelector": f"metadata.name={name}", "timeoutSeconds": str(timeout_seconds),
                  "allowWatchBookmarks": "false"}
        if resource_version:
            params["resourceVersion"] = resource_version
        response = self._request("get", plural, params=params, timeout=timeout_seconds + 10)
        try:
            for line in response.iter_lines():
                if line:
                    yield cast(Body, json.loads(line))
        finally:  # a caller that stops early hangs up, rather than leave the connection to the collector
            response.close()


def _status_message(response: Any) -> str:
    try:
        return str(response.json().get("message") or response.text)
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
