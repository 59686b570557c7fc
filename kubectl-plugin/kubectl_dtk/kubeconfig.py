"""Which API server, which credentials, which namespace: kubectl's kubeconfig rules, kept small.

Files from --kubeconfig, else $KUBECONFIG (several, merged: the first to name a context, cluster
or user wins, as kubectl does), else ~/.kube/config, else the pod's service account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeconfigError(RuntimeError):
    """No usable configuration: a usage problem (exit code 2)."""


@dataclass(frozen=True)
class Connection:
    server: str
    cluster: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    namespace: str = "default"
    base_dir: Path = Path(".")  # relative certificate paths are relative to their kubeconfig
    files: tuple[Path, ...] = ()
    context: str = ""


def _paths(explicit: str | None) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    listed = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [p for p in listed if p.exists()] or [p for p in [Path("~/.kube/config").expanduser()] if p.exists()]


def _merged(paths: list[Path]) -> dict[str, Any]:
    import yaml

    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    for path in paths:
        doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        merged["current-context"] = merged["current-context"] or doc.get("current-context", "")
        for kind in ("clusters", "users", "contexts"):
            for entry in doc.get(kind) or []:
                merged[kind].setdefault(entry["name"], (entry.get(kind[:-1]) or {}, path.parent))
    return merged


def _in_cluster() -> Connection:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host or not SERVICE_ACCOUNT.exists():
        raise KubeconfigError("no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not in a pod")
    namespace = (SERVICE_ACCOUNT / "namespace").read_text().strip()
    return Connection(server=f"https://{host}:{port}",
                      cluster={"certificate-authority": str(SERVICE_ACCOUNT / "ca.crt")},
                      user={"tokenFile": str(SERVICE_ACCOUNT / "token")}, namespace=namespace)


def load_connection(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    paths = _paths(kubeconfig)
    if not paths:
        return _in_cluster()
    doc = _merged(paths)
    name = context or doc["current-context"]
    if name not in doc["contexts"]:
        raise KubeconfigError(f'context "{name}" not found in {", ".join(map(str, paths))}')
    ctx, _ = doc["contexts"][name]
    if ctx.get("cluster") not in doc["clusters"]:
        raise KubeconfigError(f'cluster "{ctx.get("cluster")}" of context "{name}" not found')
    cluster, base = doc["clusters"][ctx["cluster"]]
    user, _ = doc["users"].get(ctx.get("user"), ({}, base))
    return Connection(server=str(cluster["server"]), cluster=dict(cluster), user=dict(user),
                      namespace=ctx.get("namespace") or "default", base_dir=base, files=tuple(paths), context=name)
