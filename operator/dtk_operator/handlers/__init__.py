"""Importing this package registers every handler with kopf's default registry."""

from dtk_operator.handlers import assembly, instance, login, target, task

__all__ = ["assembly", "instance", "login", "target", "task"]
