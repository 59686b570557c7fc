"""The sandbox's two Targets, made before the operator starts (as a cluster's admins would):
`local-sandbox`, the default of every namespace, whose nodes are directories on this host; and
`sandbox-ec2`, on the sandbox's moto server (its credentials from the sandbox's environment),
whose steps run through the `local` command transport."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dtk_api import resources as r
from dtk_operator.kube.client import api_client_from

LOCAL_TARGET = "local-sandbox"
EC2_TARGET = "sandbox-ec2"
READY_TIMEOUT_SECONDS = 30.0  # the operator checks a Target within a second of starting; this catches a stuck one


def sandbox_targets(ec2_url: str) -> list[dict[str, Any]]:
    local = {"provider": "local", "allowedNamespaces": {}}
    settings = {"region": "us-east-1", "endpointURL": ec2_url, "commandTransport": "local", "tags": {"team": "data"}}
    ec2 = {"provider": "ec2", "allowedNamespaces": {}, "ec2": settings}
    return [
        {"apiVersion": r.API_VERSION, "kind": r.TARGET_KIND,
         "metadata": {"name": LOCAL_TARGET, "annotations": {r.DEFAULT_TARGET_ANNOTATION: "true"}}, "spec": local},
        {"apiVersion": r.API_VERSION, "kind": r.TARGET_KIND, "metadata": {"name": EC2_TARGET}, "spec": ec2},
    ]


def create_targets(kubeconfig: Path, bodies: list[dict[str, Any]]) -> None:
    from kubernetes import client as k8s  # the operator's client, already loaded in this process

    api = k8s.CustomObjectsApi(api_client_from(str(kubeconfig)))
    for body in bodies:
        api.create_cluster_custom_object(r.GROUP, r.VERSION, r.TARGET_PLURAL, body)


def wait_until_ready(kubeconfig: Path, names: list[str], *, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Until the operator has found every named Target Ready (a demo started sooner would meet its
    instance Stalled, TargetNotReady, for a moment). Raises TimeoutError naming those that are not."""
    from kubernetes import client as k8s

    api = k8s.CustomObjectsApi(api_client_from(str(kubeconfig)))
    deadline, waiting = time.monotonic() + timeout, list(names)
    while waiting:
        waiting = [name for name in waiting if not _ready(api.get_cluster_custom_object(
            r.GROUP, r.VERSION, r.TARGET_PLURAL, name))]
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(f"the sandbox's Target(s) {', '.join(waiting)} not Ready within {timeout:g} s")
        time.sleep(0.05 if waiting else 0)


def _ready(body: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (body.get("status") or {}).get("conditions") or [])
