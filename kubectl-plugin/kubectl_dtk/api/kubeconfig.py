"""Which API server, which credentials, which namespace: kubectl's kubeconfig rules, kept small.

Files from --kubeconfig, else $KUBECONFIG (several, merged: the first to name a context, cluster
or user wins, as kubectl does), else ~/.kube/config, else the pod's service account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeconfigError(RuntimeError):
    """No usable configuration: a usage problem (exit code 2)."""


class Connection(NamedTuple):
    """Immutable, and a NamedTuple rather than a frozen dataclass: `dataclasses` imports `inspect`,
    about 10 ms of start-up. The dict defaults are never changed (each load makes its own)."""

    server: str
    cluster: dict[str, Any] = {}  # noqa: RUF012
    user: dict[str, Any] = {}  # noqa: RUF012
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
    """{kind: {name: (body, file)}} and the current-context; the first file to name anything wins."""
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    for path in paths:
        doc = _document(path)
        merged["current-context"] = merged["current-context"] or str(doc.get("current-context") or "")
        for kind in ("clusters", "users", "contexts"):
            for name, body in _entries(path, doc, kind):
                merged[kind].setdefault(name, (body, path))
    return merged


def _document(path: Path) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as error:
        raise KubeconfigError(f"{path}: cannot read it ({error.strerror})") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise KubeconfigError(f"{path}: not YAML ({_yaml_problem(error)})") from error
    if doc is not None and not isinstance(doc, dict):
        raise KubeconfigError(f"{path}: not a kubeconfig (a YAML mapping of clusters, contexts and users)")
    return doc or {}


def _entries(path: Path, doc: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """`clusters: [{name: c, cluster: {...}}]` and the like, as (name, body)."""
    entries = doc.get(kind) or []
    if not isinstance(entries, list) or not all(_well_formed(entry, kind) for entry in entries):
        raise KubeconfigError(f"{path}: {kind} must be a list of entries, each with a name")
    return ((entry["name"], entry.get(kind[:-1]) or {}) for entry in entries)


def _well_formed(entry: object, kind: str) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("name"), str) \
        and isinstance(entry.get(kind[:-1]) or {}, dict)


def _yaml_problem(error: Exception) -> str:
    """PyYAML's error in one line, what and where (its own text spans several lines)."""
    import yaml

    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} at line {error.problem_mark.line + 1}"
    return " ".join(str(error).split())


def _in_cluster() -> Connection:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host or not SERVICE_ACCOUNT.exists():
        raise KubeconfigError("no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not in a pod")
    namespace = (SERVICE_ACCOUNT / "namespace").read_text().strip()
    return Connection(server=f"https://{host}:{port}",
                      cluster={"certificate-authority": str(SERVICE_ACCOUNT / "ca.crt")},
                      user={"tokenFile": str(SERVICE_ACCOUNT / "token")}, namespace=namespace)


def context_names(kubeconfig: str | None = None) -> list[str]:
    """The contexts the kubeconfig files name (for completing --context)."""
    paths = _paths(kubeconfig)
    return sorted(_merged(paths)["contexts"]) if paths else []


def load_connection(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """kubectl's refusals of a malformed kubeconfig, each in one line naming the file."""
    paths = _paths(kubeconfig)
    if not paths:
        return _in_cluster()
    doc = _merged(paths)
    files = ", ".join(map(str, paths))
    name = context or doc["current-context"]
    if not name:
        raise KubeconfigError(f"{files}: no current-context set (and no --context given)")
    if name not in doc["contexts"]:
        raise KubeconfigError(f'{files}: context "{name}" not found')
    ctx, where = doc["contexts"][name]
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if cluster_name not in doc["clusters"]:
        raise KubeconfigError(f'{where}: context "{name}" names cluster "{cluster_name}", which is not defined')
    if user_name and user_name not in doc["users"]:
        raise KubeconfigError(f'{where}: context "{name}" names user "{user_name}", which is not defined')
    cluster, where = doc["clusters"][cluster_name]
    if not cluster.get("server"):
        raise KubeconfigError(f'{where}: cluster "{cluster_name}" has no server')
    user, _ = doc["users"].get(user_name, ({}, where))
    return Connection(server=str(cluster["server"]), cluster=dict(cluster), user=dict(user),
                      namespace=ctx.get("namespace") or "default", base_dir=where.parent, files=tuple(paths),
                      context=name)
