"""The benchmark's client: the official kubernetes client, as a user's tool would call the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r
from dtk_api.sharding import merge

Body = dict[str, Any]


def server_and_token(kubeconfig: Path) -> tuple[str, str]:
    """The first cluster's URL and user token: what the emulator's kubeconfig holds."""
    config = yaml.safe_load(kubeconfig.read_text())
    return str(config["clusters"][0]["cluster"]["server"]), str(config["users"][0]["user"].get("token", ""))


class Kube:
    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.kubeconfig, self.namespace = kubeconfig, namespace
        api = k8s_config.new_client_from_config(config_file=str(kubeconfig))
        self._custom = k8s.CustomObjectsApi(api)
        self._core = k8s.CoreV1Api(api)

    def create_namespace(self) -> None:
        self._core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=self.namespace)))

    def create(self, plural: str, body: Body) -> float:
        """Creates the object; returns time.perf_counter() at the moment the call returned."""
        self._custom.create_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural, body)
        return time.perf_counter()

    def get(self, plural: str, name: str) -> Body | None:
        try:
            found: Body = self._custom.get_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural, name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def list(self, plural: str) -> list[Body]:
        found: Body = self._custom.list_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, plural)
        return list(found.get("items") or [])

    def with_shard_rows(self, task: Body) -> Body:
        """`task` with every row: a Task of more than 400 rows keeps those below its stages in
        TaskShards (SPEC 11), read back in one list call as kubectl dtk does."""
        status = task.get("status") or {}
        if not status.get("shards"):
            return task
        name = task["metadata"]["name"]
        found = self._custom.list_namespaced_custom_object(r.GROUP, r.VERSION, self.namespace, r.SHARD_PLURAL,
                                                           label_selector=f"{r.TASK_LABEL}={name}")
        rows = merge(status.get("steps") or [], [s.get("steps") or [] for s in found.get("items") or []])
        return {**task, "status": {**status, "steps": rows}}
