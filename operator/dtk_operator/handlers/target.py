"""kopf handlers for Target (cluster-scoped): its Ready condition, how many instances use it, and
no deletion while they do (kopf's finalizer holds it, as kubernetes.io/pvc-protection holds a claim)."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_operator.engine.target_readiness import reconcile_target
from dtk_operator.engine.target_users import users_of
from dtk_operator.engine.trouble import backoff
from dtk_operator.kube.problems import describe

# Seconds between two looks at whether a Target being deleted is still used.
IN_USE_RECHECK_SECONDS = 10.0
# Seconds between two checks of a Target's credentials: a Secret rotated, a role's trust policy
# changed or an endpoint gone is noticed within this, without watching Secrets cluster-wide.
RECHECK_SECONDS = 300.0


@kopf.on.resume(r.GROUP, r.VERSION, r.TARGET_PLURAL)
@kopf.on.create(r.GROUP, r.VERSION, r.TARGET_PLURAL)
@kopf.on.update(r.GROUP, r.VERSION, r.TARGET_PLURAL, field="spec")
async def target_changed(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    await _reconcile(body, memo, retry)


@kopf.timer(r.GROUP, r.VERSION, r.TARGET_PLURAL, interval=RECHECK_SECONDS, initial_delay=RECHECK_SECONDS)
async def target_rechecked(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await _reconcile(body, memo, 0)  # a failure waits for the next interval (kopf logs it)


async def _reconcile(body: kopf.Body, memo: kopf.Memo, retry: int) -> None:
    try:
        await reconcile_target(memo.services, body)
    except Exception as error:  # the API server's, not AWS's (those become the Ready condition)
        delay = backoff(retry + 1)
        raise kopf.TemporaryError(f"{describe(error)} (next try in {delay:g} s)", delay=delay) from error


@kopf.on.delete(r.GROUP, r.VERSION, r.TARGET_PLURAL)
async def target_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    users = await users_of(memo.services, str(body["metadata"]["name"]))
    if users:  # their machines are terminated through it: it goes once they are gone
        named = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        raise kopf.TemporaryError(f"in use by {len(users)} instance(s): {named}", delay=IN_USE_RECHECK_SECONDS)
