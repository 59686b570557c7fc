"""The operator's only door to the Kubernetes API outside kopf (the official client, off the loop).

The official client is synchronous; every call goes through `asyncio.to_thread` so that a slow
API server never stalls the event loop that runs the Tasks.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import importlib.metadata
import json
from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api.resources import GROUP, VERSION

Body = dict[str, Any]


def _version() -> str:
    try:
        return importlib.metadata.version("kube-dtk")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "dev"


USER_AGENT = f"dtk-operator/{_version()}"  # kopf sends its own: kopf/<version>


class NotFound(LookupError):
    """The object is gone: a permanent answer, never retried."""


class Forbidden(PermissionError):
    """RBAC said no (403): permanent until an admin grants more. The message is the server's."""


class AlreadyExists(RuntimeError):
    """A create met an object of the same name: callers decide whether it is theirs."""


class LoginError(ValueError):
    """No way to the API server: no kubeconfig outside a pod, or a malformed kubeconfig. Permanent (the
    person starting the operator must fix it), so the operator refuses to start instead of retrying."""


class Refused(ValueError):
    """The API server refused the write itself (422 Invalid, 413, etcd's size limit): a permanent
    answer, the same write is refused again. The message is the server's."""


def _translate(error: ApiException) -> Exception:
    status = cast(int, error.status)
    if status == 404:
        return NotFound(str(error.reason))
    if status == 409 and "AlreadyExists" in str(error.body):
        return AlreadyExists(str(error.reason))
    message = _server_message(error)
    if status in (413, 422) or (status == 500 and "request is too large" in message):
        return Refused(message or str(error.reason))
    return cast(Exception, error)


def _server_message(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
    except (TypeError, ValueError):
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def api_client_from(kubeconfig: str | None) -> Any:
    """Logged in with the kubeconfig file(s) (os.pathsep between them) or, for None, the pod's service
    account (`login.resolve_kubeconfig` chooses). What the kubernetes client refuses (a missing
    certificate file, say) becomes a LoginError, in one line."""
    configuration = k8s.Configuration()
    try:
        if kubeconfig:
            k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
        else:
            k8s_config.load_incluster_config(client_configuration=configuration)
    except k8s_config.ConfigException as error:
        source = f"kubeconfig {kubeconfig}" if kubeconfig else "the pod's service account"
        raise LoginError(f"{source}: {' '.join(str(error).split())}") from error
    api = k8s.ApiClient(configuration)
    api.user_agent = USER_AGENT  # the API server's audit log (and the test emulator) tell our calls apart
    return api


class KubeClient:
    def __init__(self, api_client: Any) -> None:
        self._custom = k8s.CustomObjectsApi(api_client)
        self._core = k8s.CoreV1Api(api_client)

    async def secret_data(self, namespace: str, name: str) -> dict[str, str]:
        """A Secret's values, decoded. Callers must never log, post or store them. Raises NotFound,
        or Forbidden when the operator may not read it there (the chart lets it read its own namespace)."""
        try:
            secret = await asyncio.to_thread(self._core.read_namespaced_secret, name, namespace)
        except ApiException as error:
            if error.status == 403:
                raise Forbidden(_server_message(error) or str(error.reason)) from error
            raise _translate(error) from error
        return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}

    async def _call(self, method: str, *args: object, **kwargs: object) -> Any:
        try:
            return await asyncio.to_thread(getattr(self._custom, method), *args, **kwargs)
        except ApiException as error:
            raise _translate(error) from error

    async def get(self, plural: str, namespace: str, name: str) -> Body | None:
        try:
            return cast(Body, await self._call("get_namespaced_custom_object", GROUP, VERSION, namespace, plural, name))
        except NotFound:
            return None

    async def list(self, plural: str, namespace: str, *, labels: Mapping[str, str] | None = None) -> list[Body]:
        selector = ",".join(f"{k}={v}" for k, v in (labels or {}).items())
        found = await self._call("list_namespaced_custom_object", GROUP, VERSION, namespace, plural,
                                 label_selector=selector)
        return cast(list[Body], found.get("items", []))

    async def create(self, plural: str, namespace: str, body: Body) -> Body:
        return cast(Body, await self._call("create_namespaced_custom_object", GROUP, VERSION, namespace, plural, body))

    async def create_or_take_over(self, plural: str, namespace: str, body: Body) -> Body:
        """Creates `body`, or makes the object already of that name into it: its labels, owner and
        content. It may be an earlier operator life's, or an older owner's of the same name that the
        garbage collector has not deleted yet; keeping that owner would let the collector delete
        what is now ours (and its records with it)."""
        try:
            return await self.create(plural, namespace, body)
        except AlreadyExists:
            meta = body.get("metadata") or {}
            patch = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
            patch["metadata"] = {k: meta[k] for k in ("labels", "ownerReferences") if k in meta}
            return await self.patch(plural, namespace, str(meta["name"]), patch)

    async def patch(self, plural: str, namespace: str, name: str, patch: Body) -> Body:
        """RFC 7386 merge patch of the main resource (spec, metadata)."""
        return cast(Body, await self._call("patch_namespaced_custom_object", GROUP, VERSION, namespace, plural,
                                           name, patch))

    async def delete(self, plural: str, namespace: str, name: str) -> None:
        await self._call("delete_namespaced_custom_object", GROUP, VERSION, namespace, plural, name)

    async def get_cluster(self, plural: str, name: str) -> Body | None:
        """A cluster-scoped object (a Target), or None."""
        try:
            return cast(Body, await self._call("get_cluster_custom_object", GROUP, VERSION, plural, name))
        except NotFound:
            return None

    async def namespace_labels(self, namespace: str) -> dict[str, str]:
        """A namespace's labels (a Target may allow namespaces by a label selector)."""
        try:
            found = await asyncio.to_thread(self._core.read_namespace, namespace)
        except ApiException as error:
            raise _translate(error) from error
        return dict(found.metadata.labels or {})

    async def list_cluster(self, plural: str) -> builtins.list[Body]:
        """Every object of a cluster-scoped kind (Targets), or of a namespaced one in every namespace."""
        found = await self._call("list_cluster_custom_object", GROUP, VERSION, plural)
        return cast(builtins.list[Body], found.get("items", []))

    async def patch_cluster_status(self, plural: str, name: str, status: Mapping[str, object]) -> Body:
        """RFC 7386 merge patch of a cluster-scoped object's status subresource."""
        return cast(Body, await self._call("patch_cluster_custom_object_status", GROUP, VERSION, plural, name,
                                           {"status": dict(status)}))

    async def patch_status(self, plural: str, namespace: str, name: str, status: Mapping[str, object]) -> Body:
        """RFC 7386 merge patch of the status subresource; lists in it are replaced whole."""
        return cast(Body, await self._call("patch_namespaced_custom_object_status", GROUP, VERSION, namespace,
                                           plural, name, {"status": dict(status)}))
