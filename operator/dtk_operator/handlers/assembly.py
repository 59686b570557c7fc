"""kopf handlers for Assembly: validate, report, and re-converge the instances that use it."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_api import resources as r
from dtk_operator.engine.assemblies import reconcile_assembly


@kopf.on.resume(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL)
@kopf.on.create(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL)
@kopf.on.update(r.GROUP, r.VERSION, r.ASSEMBLY_PLURAL)
async def assembly_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await reconcile_assembly(memo.services, body)
