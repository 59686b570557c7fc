"""Tasks of a service instance: status (task-status), manage (list-tasks, converge, exec,
cancel-task) and action_detail (task-action-detail), with the helpers only they use."""
