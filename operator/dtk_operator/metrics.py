"""Prometheus metrics (SPEC section 9), on a registry of our own passed through Services.

Labels carry only workflow names, states, kinds and AWS operation names: never a value that
could come from a Secret or a command's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

# Seconds: from sub-second no-op tasks to the 20-minute default Task timeout.
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600)


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.tasks = Counter("dtk_tasks_total", "Tasks that reached a state, by workflow and state",
                             ["workflow", "state"], registry=r)
        self.task_seconds = Histogram("dtk_task_duration_seconds", "Task duration, start to end",
                                      ["workflow", "state"], buckets=DURATION_BUCKETS, registry=r)
        self.stage_seconds = Histogram("dtk_stage_duration_seconds", "Stage duration, start to end",
                                       ["workflow", "status"], buckets=DURATION_BUCKETS, registry=r)
        self.steps = Counter("dtk_steps_total", "Leaf rows that ended, by kind and status", ["kind", "status"],
                             registry=r)
        self.aws_calls = Counter("dtk_ec2_api_calls_total", "AWS API calls, by operation and outcome",
                                 ["operation", "outcome"], registry=r)
        self.nodes = Gauge("dtk_nodes", "Recorded nodes, by instance and state", ["namespace", "instance", "state"],
                           registry=r)
        self.status_writes = Counter("dtk_status_writes_total", "Status writes, by kind of object", ["kind"],
                                     registry=r)
        # controller-runtime's leader_election_master_status: which replica works (--leader-elect only).
        self.leader = Gauge("dtk_leader_election_status", "1 while this process holds the Lease, 0 while it "
                            "stands by", ["lease"], registry=r)

    def aws_call(self, operation: str, outcome: str) -> None:
        self.aws_calls.labels(operation, outcome).inc()

    def set_nodes(self, namespace: str, instance: str, states: dict[str, int]) -> None:
        for state in ("creating", "running", "stopped"):
            self.nodes.labels(namespace, instance, state).set(states.get(state, 0))

    def serve(self, port: int) -> None:
        """A background HTTP server for /metrics (prometheus-client's own, in a daemon thread)."""
        start_http_server(port, registry=self.registry)
