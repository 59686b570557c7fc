"""SPEC section 11's scale limits that no single schema field can say (the others are `maximum`
and `maxItems` in the CRDs: 5,000 members a group, 200 stages, 256-character values)."""

from __future__ import annotations

from typing import Final

MAX_INSTANCE_NODES: Final = 10_000  # single nodes and group members of one ServiceInstance
