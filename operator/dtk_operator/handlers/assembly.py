"""kopf handlers for Assembly: validate, report, and re-converge the instances that use it."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_operator.engine.assemblies import assembly_removed, reconcile_assembly
from dtk_operator.handlers.retrying import retry_later


@kopf.on.resume(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL)
@kopf.on.create(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL)
@kopf.on.update(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL)
async def assembly_changed(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    try:
        await reconcile_assembly(memo.services, body)
    except Exception as error:
        raise await retry_later(memo.services, r.ASSEMBLY_PLURAL, body, error, retry) from error


def _removal(type: str | None, **_: Any) -> bool:
    return type == "DELETED"


# An event handler, not on.delete: an Assembly holds no finalizer (nothing to clean up), and its
# instances only need to learn at once that it is gone.
@kopf.on.event(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL, when=_removal)
async def assembly_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await assembly_removed(memo.services, body)
