"""kstatus's verdict on one of our objects, as `status.Compute` in sigs.k8s.io/cli-utils
(pkg/kstatus/status) reaches it for a custom resource. This is what Flux's kustomize-controller
waits on (`wait: true`, `healthChecks`) unless a `healthCheckExprs` entry covers the kind.

The rules, in order (checkGenericProperties, then Compute's default):
1. `metadata.deletionTimestamp` set: Terminating, "Resource scheduled for deletion".
2. `metadata.generation` and `status.observedGeneration` both present and different: InProgress,
   "<Kind> generation is <g>, but latest observed generation is <o>". A missing
   observedGeneration skips this check: it is not "not observed".
3. The conditions in list order: the first `Reconciling` True gives InProgress and the first
   `Stalled` True gives Failed, whichever comes first, with the condition's message. `Ready` is not
   read at all.
4. Otherwise (our kinds have no built-in rules): Current, "Resource is current". An object with
   no status at all ends here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

KStatus = Literal["InProgress", "Failed", "Current", "Terminating"]


@dataclass(frozen=True)
class Result:
    status: KStatus
    message: str


def compute(obj: Mapping[str, Any]) -> Result:
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    status: Mapping[str, Any] = obj.get("status") or {}
    if meta.get("deletionTimestamp"):
        return Result("Terminating", "Resource scheduled for deletion")
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return Result("InProgress",
                      f"{obj.get('kind')} generation is {generation}, but latest observed generation is {observed}")
    for found in status.get("conditions") or []:
        if found.get("type") == "Reconciling" and found.get("status") == "True":
            return Result("InProgress", str(found.get("message", "")))
        if found.get("type") == "Stalled" and found.get("status") == "True":
            return Result("Failed", str(found.get("message", "")))
    return Result("Current", "Resource is current")
