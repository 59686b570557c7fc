"""What a finished Task adds to the metrics: its outcome, its duration, its stages and steps."""

from __future__ import annotations

from dtk_api.task_status import TaskStatus, leaves, stages
from dtk_operator.metrics import Metrics


def record_outcome(metrics: Metrics, workflow: str, task: TaskStatus) -> None:
    metrics.tasks.labels(workflow, task.state).inc()
    if task.started_at is not None and task.ended_at is not None:
        seconds = (task.ended_at - task.started_at).total_seconds()
        metrics.task_seconds.labels(workflow, task.state).observe(seconds)
    for stage in stages(task.steps):
        if stage.duration_seconds is not None:
            metrics.stage_seconds.labels(workflow, stage.status).observe(stage.duration_seconds)
    for leaf in leaves(task.steps):
        if leaf.is_terminal:
            metrics.steps.labels(leaf.kind, leaf.status).inc()
