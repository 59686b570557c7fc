"""Which Target an instance runs on, or why it may not run at all (a Stalled reason).

Checked before anything is created or called: an instance whose Target is missing, not allowed for
its namespace, not Ready, or `local` on an operator without --allow-local-target makes no cloud
call. The Target an instance was given is recorded in its status.target and kept: a new default
never moves its machines, and a Target that stops allowing its namespace stalls its next Task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api import conditions as c
from dtk_api import resources as r
from dtk_api.instance_status import Problem
from dtk_api.targets import choose, is_ready, name_of, ready_message, runs_on_operator_host
from dtk_operator.engine.services import Services


async def choose_target(services: Services, instance: Mapping[str, Any]
                        ) -> tuple[Mapping[str, Any] | None, Problem | None]:
    spec, status = instance.get("spec") or {}, instance.get("status") or {}
    namespace = str(instance["metadata"]["namespace"])
    named = str((spec.get("targetRef") or {}).get("name") or "")
    given = str(status.get("target") or "")
    if named and given and named != given:
        return None, Problem(c.REASON_INVALID_SPEC, f"spec.targetRef names Target '{named}' but the instance runs "
                                                    f"on '{given}': an instance never moves its machines; create a "
                                                    "new one")
    targets = await services.kube.list_cluster(r.TARGET_PLURAL)
    labels = await services.kube.namespace_labels(namespace)
    choice = choose(targets, wanted=named or given, namespace=namespace, labels=labels)
    if choice.target is None:
        return None, Problem(choice.reason, choice.message)
    target = choice.target
    if runs_on_operator_host(target) and not services.options.allow_local_target:
        return None, Problem(c.REASON_LOCAL_TARGET_DISABLED,
                             f"Target '{name_of(target)}' runs steps on the operator's host (a local Target, or "
                             "commandTransport: local); start the operator with --allow-local-target to use it")
    if not is_ready(target):
        return None, Problem(c.REASON_TARGET_NOT_READY,
                             f"Target '{name_of(target)}' is not ready: {ready_message(target)}")
    return target, None
