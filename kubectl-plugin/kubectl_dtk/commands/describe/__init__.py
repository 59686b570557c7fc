"""vappio's describe-task over the Tasks of a namespace."""
