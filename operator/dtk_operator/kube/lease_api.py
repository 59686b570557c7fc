"""The Lease's reads and writes (coordination.k8s.io/v1, the official client), each with a deadline.

Synchronous on purpose: leader election runs in a thread of its own, beside kopf's event loop, so
a busy or stalled loop never delays a renewal. Errors are mapped once here: a write that lost the
race (409, AlreadyExists or Conflict) is `Contended`; anything else that could pass (the API
server down, slow, or refusing us for now) is `LeaseUnavailable`, retried by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from dtk_operator.kube.leases import LeaseRecord, record_from

MIN_REQUEST_SECONDS = 0.5  # shorter and a healthy but loaded API server could not answer in time


class Contended(RuntimeError):
    """Another writer changed the Lease since we read it (or created it first): re-read, then decide."""


class LeaseUnavailable(RuntimeError):
    """The Lease could not be read or written just now (temporary: try again after the retry period)."""


@dataclass(frozen=True)
class LeaseApi:
    api_client: Any
    namespace: str
    name: str

    def _api(self) -> k8s.CoordinationV1Api:
        return k8s.CoordinationV1Api(self.api_client)

    def read(self, *, timeout: float) -> LeaseRecord | None:
        try:
            answer = self._api().read_namespaced_lease(self.name, self.namespace, _preload_content=False,
                                                       _request_timeout=max(timeout, MIN_REQUEST_SECONDS))
        except ApiException as error:
            if error.status == 404:
                return None
            raise _mapped(error) from error
        except (HTTPError, OSError) as error:
            raise LeaseUnavailable(f"cannot read Lease {self.namespace}/{self.name}: {error}") from error
        return record_from(json.loads(answer.data))

    def create(self, spec: dict[str, Any], *, timeout: float) -> LeaseRecord:
        return self._write(None, spec, timeout=timeout)

    def replace(self, resource_version: str, spec: dict[str, Any], *, timeout: float) -> LeaseRecord:
        """Replaces the version read (`resource_version`): 409 if anyone wrote it since."""
        return self._write(resource_version, spec, timeout=timeout)

    def _write(self, resource_version: str | None, spec: dict[str, Any], *, timeout: float) -> LeaseRecord:
        metadata = {"name": self.name, "namespace": self.namespace}
        if resource_version is not None:
            metadata["resourceVersion"] = resource_version
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
        options: dict[str, Any] = {"_preload_content": False, "_request_timeout": max(timeout, MIN_REQUEST_SECONDS)}
        try:
            if resource_version is None:
                answer = self._api().create_namespaced_lease(self.namespace, body, **options)
            else:
                answer = self._api().replace_namespaced_lease(self.name, self.namespace, body, **options)
        except ApiException as error:
            raise _mapped(error) from error
        except (HTTPError, OSError) as error:
            raise LeaseUnavailable(f"cannot write Lease {self.namespace}/{self.name}: {error}") from error
        return record_from(json.loads(answer.data))


def _mapped(error: ApiException) -> Exception:
    if error.status == 409:
        return Contended(_message(error))
    return LeaseUnavailable(f"{error.status} {error.reason}: {_message(error)}")


def _message(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
    except (TypeError, ValueError):
        return str(error.reason)
    return str(body.get("message") or error.reason) if isinstance(body, dict) else str(error.reason)
