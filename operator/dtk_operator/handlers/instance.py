"""kopf handlers for ServiceInstance: unpack, delegate to the engine, map errors for kopf."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_operator.engine.lifecycle import RetryLater, reconcile_instance, release_instance


@kopf.on.resume(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
@kopf.on.create(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
@kopf.on.update(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
async def instance_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    try:
        await reconcile_instance(memo.services, body)
    except RetryLater as error:
        raise kopf.TemporaryError(str(error), delay=error.delay) from error


@kopf.on.delete(r.GROUP, r.VERSION, r.INSTANCE_PLURAL)
async def instance_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    try:
        await release_instance(memo.services, body)
    except RetryLater as error:
        raise kopf.TemporaryError(str(error), delay=error.delay) from error
