"""A Target's own status: is it usable (Ready, with the AWS account its credentials act in), and
which instances use it (they hold it: it is deleted only once they are gone). Recomputed from the
world on every call.

For `ec2` the check is `sts:GetCallerIdentity` with the Target's credentials, role and endpoint:
it needs no IAM permission, so it proves exactly that the credentials are valid, the role can be
assumed and the endpoint answers, and reveals nothing but the account id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dtk_api import conditions as c
from dtk_api import resources as r
from dtk_api.targets import wanted_name
from dtk_operator.aws.errors import classify
from dtk_operator.aws.session import caller_account
from dtk_operator.engine.lifecycle import reconcile_instance
from dtk_operator.engine.services import Services
from dtk_operator.engine.target_users import users_of, watched_instances
from dtk_operator.targets.base import TargetError

Readiness = tuple[bool, str, str, str]  # ready, reason, message, account id


async def reconcile_target(services: Services, body: Mapping[str, Any]) -> None:
    meta, spec = body["metadata"], body.get("spec") or {}
    ready, reason, message, account = await readiness(services, spec)
    generation = int(meta.get("generation") or 0)
    conditions = c.set_condition((body.get("status") or {}).get("conditions") or [], type_=c.READY,
                                 status="True" if ready else "False", reason=reason, message=message,
                                 now=datetime.now(UTC), generation=generation)
    users = await users_of(services, str(meta["name"]))
    await services.kube.patch_cluster_status(r.TARGET_PLURAL, str(meta["name"]), {
        "observedGeneration": generation, "conditions": conditions, "accountID": account, "instances": len(users)})
    await _reconcile_affected(services, str(meta["name"]))


# An instance Stalled for one of these may run once a Target appears, changes or turns Ready.
WAITING_REASONS = frozenset({c.REASON_TARGET_NOT_FOUND, c.REASON_TARGET_NOT_ALLOWED, c.REASON_TARGET_NOT_READY})


async def _reconcile_affected(services: Services, name: str) -> None:
    """The instances this Target's change may concern: its own (say, it no longer allows their
    namespace: Stalled at once, a running Task left alone) and those waiting for a Target."""
    for instance in await watched_instances(services):
        conditions = (instance.get("status") or {}).get("conditions") or []
        waiting = any(cond.get("type") == c.STALLED and cond.get("status") == "True"
                      and cond.get("reason") in WAITING_REASONS for cond in conditions if isinstance(cond, Mapping))
        if waiting or wanted_name(instance) == name:
            await reconcile_instance(services, instance)


async def readiness(services: Services, spec: Mapping[str, Any]) -> Readiness:
    if spec.get("provider") == "local":
        allowed = "" if services.options.allow_local_target else (
            "; this operator runs without --allow-local-target, so instances on it are Stalled")
        return True, c.REASON_LOCAL_TARGET, f"steps run on the operator's host, as the operator's user{allowed}", ""
    ec2 = spec.get("ec2") or {}
    try:
        settings = await services.targets.aws_settings(ec2, spec.get("credentialsSecretRef") or {},
                                                       services.targets.operator_namespace)
    except TargetError as error:
        return False, c.REASON_CREDENTIALS_NOT_FOUND, str(error), ""
    try:
        account = await asyncio.to_thread(caller_account, settings)
    except Exception as error:  # AWS's refusal, an unreachable endpoint: said with AWS's code, no secret
        found = classify("sts:GetCallerIdentity", error)
        return False, c.REASON_CREDENTIALS_REFUSED, str(found), ""
    return True, c.REASON_CREDENTIALS_VERIFIED, f"credentials verified: AWS account {account}", account
