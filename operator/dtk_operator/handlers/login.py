"""How kopf reaches the API server: exactly as the operator's own client does (memo.kubeconfig,
None for the pod's service account). kopf's built-in logins would try the service account first,
whatever --kubeconfig says, and the sandbox's operator run inside a pod would reach the real
cluster instead of its own emulator."""

from __future__ import annotations

from typing import Any

import kopf

from dtk_operator.kube.login import login_fields


@kopf.on.login()
def login(memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
    # Read afresh at each login (kopf logs in again after a 401): a rotated token is picked up.
    return kopf.ConnectionInfo(**login_fields(memo.get("kubeconfig")))
