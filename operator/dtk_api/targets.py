"""Targets (cluster-scoped, admin-owned): who may use one, and which one an instance gets.

Pure: the operator fetches Targets and namespaces, these functions decide. The rules follow
Cluster API AWS's `allowedNamespaces` (absent: nobody; `{}`: everybody; else the names listed
and the namespaces a label selector matches) and StorageClass's default annotation (two defaults
allowed for one namespace is an error to report, never a guess).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dtk_api.conditions import READY, REASON_TARGET_NOT_ALLOWED, REASON_TARGET_NOT_FOUND
from dtk_api.resources import DEFAULT_TARGET_ANNOTATION

Body = Mapping[str, Any]


def name_of(body: Body) -> str:
    return str((body.get("metadata") or {}).get("name", ""))


def is_default(target: Body) -> bool:
    return str(((target.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_TARGET_ANNOTATION, "")) == "true"


def is_ready(target: Body) -> bool:
    conditions = (target.get("status") or {}).get("conditions") or []
    return any(c.get("type") == READY and c.get("status") == "True" for c in conditions if isinstance(c, Mapping))


def allows(target: Body, namespace: str, labels: Mapping[str, str]) -> bool:
    """May instances in `namespace` (with these labels) use `target`?"""
    allowed = (target.get("spec") or {}).get("allowedNamespaces")
    if not isinstance(allowed, Mapping):
        return False  # absent: no namespace
    listed, selector = allowed.get("list"), allowed.get("selector")
    if listed is None and selector is None:
        return True  # `{}`: every namespace
    if isinstance(listed, list) and namespace in listed:
        return True
    return isinstance(selector, Mapping) and selects(selector, labels)


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: every matchLabels pair and every matchExpressions requirement.
    An empty selector matches everything, as Kubernetes reads it."""
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(str(key)) != str(value) for key, value in wanted.items()):
        return False
    return all(_requirement(expression, labels) for expression in selector.get("matchExpressions") or [])


def _requirement(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = str(expression.get("key", "")), str(expression.get("operator", ""))
    values = {str(v) for v in expression.get("values") or []}
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # an operator the schema does not allow: match nothing rather than everything


@dataclass(frozen=True)
class TargetChoice:
    """The Target an instance gets, or why it gets none (a reason and a message)."""

    target: Body | None
    reason: str = ""
    message: str = ""

    @property
    def name(self) -> str:
        return name_of(self.target) if self.target is not None else ""


def choose(targets: Sequence[Body], *, wanted: str, namespace: str, labels: Mapping[str, str]) -> TargetChoice:
    """The Target named `wanted`, else the default Target allowed for `namespace`; readiness is
    the caller's to check (it may change without the choice changing)."""
    if wanted:
        found = [t for t in targets if name_of(t) == wanted]
        if not found:
            return TargetChoice(None, REASON_TARGET_NOT_FOUND, f"Target '{wanted}' not found")
        if not allows(found[0], namespace, labels):
            return TargetChoice(None, REASON_TARGET_NOT_ALLOWED,
                                f"Target '{wanted}' does not allow namespace {namespace} (its allowedNamespaces)")
        return TargetChoice(found[0])
    defaults = sorted((t for t in targets if is_default(t) and allows(t, namespace, labels)), key=name_of)
    if not defaults:
        return TargetChoice(None, REASON_TARGET_NOT_FOUND,
                            f"no spec.targetRef and no default Target allows namespace {namespace} (a Target "
                            f"annotated {DEFAULT_TARGET_ANNOTATION}: \"true\")")
    if len(defaults) > 1:
        names = ", ".join(name_of(t) for t in defaults)
        return TargetChoice(None, REASON_TARGET_NOT_FOUND,
                            f"no spec.targetRef and {len(defaults)} default Targets allow namespace {namespace} "
                            f"({names}): name one in spec.targetRef, or keep one default")
    return TargetChoice(defaults[0])


def ready_message(target: Body) -> str:
    conditions = (target.get("status") or {}).get("conditions") or []
    found = [c for c in conditions if isinstance(c, Mapping) and c.get("type") == READY]
    return str(found[0].get("message") or "") if found else "the operator has not checked it yet"


def wanted_name(instance: Body) -> str:
    """The Target an instance names (spec.targetRef), else the one it was given (status.target)."""
    ref = ((instance.get("spec") or {}).get("targetRef") or {}).get("name")
    return str(ref or (instance.get("status") or {}).get("target") or "")


def runs_on_operator_host(target: Body) -> bool:
    """A local Target, or an ec2 one with the local command transport: steps run in the operator."""
    spec = target.get("spec") or {}
    return spec.get("provider") == "local" or (
        spec.get("provider") == "ec2" and (spec.get("ec2") or {}).get("commandTransport") == "local")
