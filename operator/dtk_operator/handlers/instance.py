"""kopf handlers for ServiceInstance: unpack, delegate to the engine, map errors for kopf."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_operator.engine.lifecycle import RetryLater, reconcile_instance, release_instance
from dtk_operator.engine.trouble import GIVE_UP_AFTER_FAILURES, let_go
from dtk_operator.handlers.retrying import retry_later
from dtk_operator.kube.problems import describe


@kopf.on.resume(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
@kopf.on.create(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
@kopf.on.update(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
async def instance_changed(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    try:
        await reconcile_instance(memo.services, body)
    except RetryLater as error:
        raise kopf.TemporaryError(str(error), delay=error.delay) from error
    except Exception as error:
        raise await retry_later(memo.services, r.INSTANCE_PLURAL, body, error, retry) from error


@kopf.on.delete(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
async def instance_deleted(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    try:
        await release_instance(memo.services, body)
    except RetryLater as error:  # understood and in progress (a Task cancelling, machines terminating)
        raise kopf.TemporaryError(str(error), delay=error.delay) from error
    except Exception as error:
        if retry + 1 >= GIVE_UP_AFTER_FAILURES:  # bounded: deletion is never held by what we cannot do
            return await let_go(memo.services, body, why=f"{retry + 1} clean-ups failed ({describe(error)})")
        raise await retry_later(memo.services, r.INSTANCE_PLURAL, body, error, retry) from error
