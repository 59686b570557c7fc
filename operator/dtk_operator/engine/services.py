"""The typed services object every handler and Task run receives (kept in kopf's `memo`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from dtk_operator.engine.target_factory import TargetFactory
from dtk_operator.kube.client import KubeClient
from dtk_operator.metrics import Metrics
from dtk_operator.targets.local import DEFAULT_LOCAL_MAX_PROCESSES

InstanceKey = tuple[str, str]  # (namespace, ServiceInstance name)


@dataclass(frozen=True)
class Options:
    allow_local_target: bool = False
    # Where `local` nodes live: one directory per node.
    local_root: Path = Path("/tmp/dtk-local")
    # Step processes the local target runs at once, over all Tasks (it shares one host).
    local_max_processes: int = DEFAULT_LOCAL_MAX_PROCESSES
    # Seconds a status write waits to gather a burst of row changes into one write.
    status_coalesce_seconds: float = 0.05
    # Longest pause, in seconds, between two checks of whether a queued Task may start.
    queue_poll_max_seconds: float = 2.0
    # Seconds a deleted ServiceInstance waits for its running Task to cancel before retrying.
    cancel_wait_seconds: float = 60.0
    # Port of the Prometheus /metrics endpoint; 0 serves none.
    metrics_port: int = 0
    # Where a Target's credentials Secret is when its credentialsSecretRef names no namespace: the
    # operator's own (its pod's), which is where the chart lets it read Secrets.
    operator_namespace: str = "dtk-system"
    # The namespaces the operator watches (-n); empty: every namespace. A Target's users are counted
    # where the operator may list instances.
    namespaces: tuple[str, ...] = ()


@dataclass
class Services:
    kube: KubeClient
    options: Options
    targets: TargetFactory
    metrics: Metrics = field(default_factory=Metrics)
    _wakeups: dict[InstanceKey, asyncio.Event] = field(default_factory=dict)
    _locks: dict[InstanceKey, asyncio.Lock] = field(default_factory=dict)
    _reconciling: dict[InstanceKey, asyncio.Lock] = field(default_factory=dict)
    # Task uid -> its resourceVersion when this process first saw it. A watch delivers creations in
    # the order the API server made them, which creationTimestamp (whole seconds) cannot tell apart.
    _arrivals: dict[str, int] = field(default_factory=dict)

    def wakeup(self, key: InstanceKey) -> asyncio.Event:
        """Set when a Task of the instance ends, so the next queued one starts without polling."""
        return self._wakeups.setdefault(key, asyncio.Event())

    def lock(self, key: InstanceKey) -> asyncio.Lock:
        """Serialises status writes of one instance within this process."""
        return self._locks.setdefault(key, asyncio.Lock())

    def note_arrival(self, uid: str, resource_version: str) -> None:
        if resource_version.isdigit():
            self._arrivals.setdefault(uid, int(resource_version))

    def forget_arrival(self, uid: str) -> None:
        self._arrivals.pop(uid, None)

    def arrival(self, uid: str) -> int | None:
        return self._arrivals.get(uid)

    def reconciling(self, key: InstanceKey) -> asyncio.Lock:
        """One reconcile of an instance at a time: its own handler and its Assembly's handler may
        both react to one change, and must not both decide to create a Task."""
        return self._reconciling.setdefault(key, asyncio.Lock())
