"""Flux's reading of a `healthCheckExprs` entry (fluxcd/pkg runtime/cel StatusEvaluator), with the
`common-expression-language` package (cel-rust) standing in for cel-go.

1. status.observedGeneration present and different from metadata.generation: InProgress.
2. `inProgress`, then `failed`, then `current`, each if given: the first that is true decides.
3. None is true: InProgress.
The object's top-level fields are the expression's variables. An expression that cannot be
evaluated (a field the object lacks, such as `status` before the operator wrote one) is an error
for Flux, which then keeps waiting: reported here as "Unknown".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cel

ORDER = (("inProgress", "InProgress"), ("failed", "Failed"), ("current", "Current"))


def evaluate(exprs: Mapping[str, str], obj: Mapping[str, Any]) -> str:
    status = obj.get("status") or {}
    observed, generation = status.get("observedGeneration"), (obj.get("metadata") or {}).get("generation")
    if observed is not None and generation is not None and observed != generation:
        return "InProgress"
    for key, verdict in ORDER:
        if key not in exprs:
            continue
        try:
            result = cel.evaluate(exprs[key], dict(obj))
        except (KeyError, RuntimeError, TypeError, ValueError):
            return "Unknown"
        if not isinstance(result, bool):
            return "Unknown"
        if result:
            return verdict
    return "InProgress"
