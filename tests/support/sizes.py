"""The largest object the API server stored while a test ran, seen through watches (the real
protocol: it works the same against a real cluster), one watch per kind."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch

from dtk_api import resources as r

WATCH_WINDOW_SECONDS = 5  # each watch is reopened this often, so stop() is noticed soon


@dataclass
class Largest:
    """Per kind: the size in bytes of the largest version written, its name, and how many versions were seen."""

    sizes: dict[str, tuple[int, str]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def see(self, plural: str, body: dict[str, Any]) -> None:
        size = len(json.dumps(body, separators=(",", ":")).encode())
        with self.lock:
            self.versions[plural] = self.versions.get(plural, 0) + 1
            if size > self.sizes.get(plural, (0, ""))[0]:
                self.sizes[plural] = (size, str(body.get("metadata", {}).get("name", "")))

    def overall(self) -> tuple[int, str]:
        with self.lock:
            return max(((size, f"{plural}/{name}") for plural, (size, name) in self.sizes.items()), default=(0, ""))


def _watch(kubeconfig: Path, namespace: str, plural: str, largest: Largest, stop: threading.Event) -> None:
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
    version = ""
    while not stop.is_set():
        watcher = k8s_watch.Watch()
        try:
            for event in watcher.stream(api.list_namespaced_custom_object, r.GROUP, r.VERSION, namespace, plural,
                                        resource_version=version, timeout_seconds=WATCH_WINDOW_SECONDS):
                body = event["object"]
                version = str(body.get("metadata", {}).get("resourceVersion", version))
                if event["type"] in ("ADDED", "MODIFIED"):
                    largest.see(plural, body)
                if stop.is_set():
                    break
        except Exception:  # a 410 after a long pause: start over from now (sizes already seen stay)
            version = ""
        finally:
            watcher.stop()


@contextmanager
def largest_objects(kubeconfig: Path, namespace: str, plurals: Sequence[str]) -> Iterator[Largest]:
    largest, stop = Largest(), threading.Event()
    threads = [threading.Thread(target=_watch, args=(kubeconfig, namespace, p, largest, stop), daemon=True)
               for p in plurals]
    for thread in threads:
        thread.start()
    try:
        yield largest
    finally:
        stop.set()
        for thread in threads:
            thread.join(WATCH_WINDOW_SECONDS + 5)
