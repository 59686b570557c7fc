"""Tasks of a service instance: status (task-status) and manage (list-tasks, converge, exec,
cancel-task, task-action-detail), with the helpers only they use."""
