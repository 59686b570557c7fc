"""Targets in tests. They are cluster-scoped, and several tests (and, with DTK_TEST_KUBECONFIG,
several runs) share one API server: a test's Targets are named after its namespace and removed with
it (support/cluster.drop_namespace), and the session's default local Target leaves out the
namespaces labelled NO_DEFAULT_LABEL (for the tests of what happens without a default)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from support.cluster import Kube

DEFAULT_TARGET = "dtk-e2e-local"
NO_DEFAULT_LABEL = "dtk-e2e/no-default-target"


def target_body(name: str, provider: str = "ec2", *, endpoint: str = "", secret: dict[str, str] | None = None,
                allowed: dict[str, Any] | None = None, default: bool = False,
                transport: str = "local") -> dict[str, Any]:
    spec: dict[str, Any] = {"provider": provider}
    if provider == "ec2":
        spec["ec2"] = {"region": "us-east-1", "endpointURL": endpoint, "commandTransport": transport,
                       "tags": {"team": "data"}}
    if secret is not None:
        spec["credentialsSecretRef"] = secret
    if allowed is not None:
        spec["allowedNamespaces"] = allowed
    meta: dict[str, Any] = {"name": name}
    if default:
        meta["annotations"] = {r.DEFAULT_TARGET_ANNOTATION: "true"}
    return {"apiVersion": r.API_VERSION, "kind": r.TARGET_KIND, "metadata": meta, "spec": spec}


def ensure_default_target(kubeconfig: Path) -> None:
    """The session's default: local, for every namespace but those labelled NO_DEFAULT_LABEL."""
    api = _api(kubeconfig)
    body = target_body(DEFAULT_TARGET, "local", default=True, allowed={"selector": {"matchExpressions": [
        {"key": NO_DEFAULT_LABEL, "operator": "DoesNotExist"}]}})
    try:
        api.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, body)
    except ApiException as error:
        if error.status != 409:  # made by the other worker, or an earlier run
            raise


def default_target_ready(kubeconfig: Path, timeout: float = 30.0) -> None:
    """Until an operator has found the session's default Target Ready: an instance checked before
    would be Stalled (TargetNotReady) for a moment, and a test waiting for another Stalled reason
    could see that one first. Operators started for a test call this once they run."""
    api, deadline = _api(kubeconfig), time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, DEFAULT_TARGET)
        if any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (body.get("status") or {}).get("conditions") or []):
            return
        time.sleep(0.05)
    raise AssertionError(f"the default Target {DEFAULT_TARGET} was not Ready within {timeout:g} s")


def remove_targets_of(kubeconfig: Path, namespace: str) -> None:
    """A test's Targets (named `<namespace>-...`), finalizers dropped: its operator may be gone."""
    api = _api(kubeconfig)
    for found in api.list_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL)["items"]:
        name = found["metadata"]["name"]
        if not name.startswith(f"{namespace}-"):
            continue
        try:
            api.patch_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, name,
                                            {"metadata": {"finalizers": None}})
            api.delete_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, name)
        except ApiException as error:
            if error.status != 404:
                raise


def _api(kubeconfig: Path) -> Any:
    return k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))


class Targets:
    """A test's Targets: created under `<namespace>-<name>`."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def create(self, body: dict[str, Any]) -> str:
        """Creates it, or keeps the one of that name the test made already (the same settings)."""
        name = f"{self.kube.namespace}-{body['metadata']['name']}"
        body = {**body, "metadata": {**body["metadata"], "name": name}}
        try:
            self.kube.custom.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, body)
        except ApiException as error:
            if error.status != 409:
                raise
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

    def patch(self, name: str, patch: dict[str, Any]) -> None:
        self.kube.custom.patch_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, name, patch)

    def ready_condition(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """Its Ready condition, once the operator has written one for its current generation."""
        def probe() -> dict[str, Any] | None:
            body = self.get(name) or {}
            status = body.get("status") or {}
            if status.get("observedGeneration") != (body.get("metadata") or {}).get("generation"):
                return None
            return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), None)

        return self.kube.wait(f"target {name} to have a Ready condition", probe, timeout=timeout)
