"""SPEC section 11's scale limits. The CRDs say the per-field ones too (`maximum`, `maxItems`);
the operator checks them again for objects stored without that schema (SPEC 2), and alone checks
the instance total, which no single field can say."""

from __future__ import annotations

from typing import Final

MAX_INSTANCE_NODES: Final = 10_000  # single nodes and group members of one ServiceInstance
MAX_GROUP_MEMBERS: Final = 5_000  # members of one node group (the Assembly's, or an instance override)
MAX_WORKFLOW_STAGES: Final = 200  # the Task keeps one row per stage (dtk_api.sharding)
