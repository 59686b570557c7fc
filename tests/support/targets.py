"""Targets in tests: cluster-scoped, so each is named after its test's namespace and removed when
the test ends (several tests, and with DTK_TEST_KUBECONFIG several runs, share one API server)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from support.cluster import Kube


def target_body(name: str, provider: str = "ec2", *, endpoint: str = "", secret: dict[str, str] | None = None,
                allowed: dict[str, Any] | None = None, default: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"provider": provider}
    if provider == "ec2":
        spec["ec2"] = {"region": "us-east-1", "endpointURL": endpoint}
    if secret is not None:
        spec["credentialsSecretRef"] = secret
    if allowed is not None:
        spec["allowedNamespaces"] = allowed
    meta: dict[str, Any] = {"name": name}
    if default:
        meta["annotations"] = {r.DEFAULT_TARGET_ANNOTATION: "true"}
    return {"apiVersion": r.API_VERSION, "kind": r.TARGET_KIND, "metadata": meta, "spec": spec}


class Targets:
    def __init__(self, kube: Kube) -> None:
        self.kube, self.made = kube, list[str]()

    def create(self, body: dict[str, Any]) -> str:
        """Creates it under `<namespace>-<name>`; returns that name."""
        name = f"{self.kube.namespace}-{body['metadata']['name']}"
        body = {**body, "metadata": {**body["metadata"], "name": name}}
        self.kube.custom.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, body)
        self.made.append(name)
        return name

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.kube.custom.get_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL,
                                                                               name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def ready_condition(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """Its Ready condition, once the operator has written one for its current generation."""
        def probe() -> dict[str, Any] | None:
            body = self.get(name) or {}
            status = body.get("status") or {}
            if status.get("observedGeneration") != (body.get("metadata") or {}).get("generation"):
                return None
            return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), None)

        return self.kube.wait(f"target {name} to have a Ready condition", probe, timeout=timeout)

    def remove_all(self) -> None:
        for name in self.made:
            try:
                self.kube.custom.delete_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, name)
            except ApiException as error:
                if error.status != 404:
                    raise


@contextmanager
def targets_of(kube: Kube) -> Iterator[Targets]:
    made = Targets(kube)
    try:
        yield made
    finally:
        made.remove_all()
