"""Targets (cluster-scoped, made by the cluster's admins): listing (list-targets)."""
