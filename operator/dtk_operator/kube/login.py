"""Where `dtk-operator run` logs in, decided once and checked before kopf starts.

controller-runtime's order: --kubeconfig FILE, else $KUBECONFIG, else the pod's service account
when in a pod, else ~/.kube/config. kopf's own fallback logins try the service account first and
retry a failing login forever; this module makes kopf and our own client use the same source, and
turns a source that cannot work into one LoginError line before anything starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from dtk_operator.kube.client import LoginError, api_client_from

SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
HOME_KUBECONFIG = Path("~/.kube/config")
NAMED_KINDS = ("contexts", "clusters", "users")


def pod_namespace() -> str:
    """The namespace of the pod the operator runs in ("" outside a pod)."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() if in_pod() else ""
    except OSError:
        return ""


def in_pod() -> bool:
    """What the kubernetes client's in-cluster login needs: the service's address and a token."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and SERVICE_ACCOUNT_TOKEN.exists()


def resolve_kubeconfig(explicit: str | None) -> str | None:
    """The kubeconfig file(s) to log in with (os.pathsep between them), checked; None for the pod's
    service account. $KUBECONFIG files are merged and missing ones skipped, as kubectl does."""
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if explicit:
        chosen = [explicit]
    elif listed:
        chosen = [p for p in listed if Path(p).expanduser().exists()]
        if not chosen:
            raise LoginError(f"$KUBECONFIG names no existing file ({os.pathsep.join(listed)})")
    elif in_pod():
        return None
    elif HOME_KUBECONFIG.expanduser().exists():
        chosen = [str(HOME_KUBECONFIG.expanduser())]
    else:
        raise LoginError("no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not in a pod")
    check_kubeconfig(chosen)
    return os.pathsep.join(chosen)


def check_kubeconfig(paths: list[str]) -> None:
    """kubectl's refusals of a malformed kubeconfig, each in one line naming the file."""
    docs = [(path, _document(path)) for path in paths]
    found = {kind: _named(docs, kind) for kind in NAMED_KINDS}
    name = next((str(doc["current-context"]) for _, doc in docs if doc.get("current-context")), "")
    if not name:
        raise LoginError(f"kubeconfig {', '.join(paths)}: no current-context set")
    if name not in found["contexts"]:
        raise LoginError(f'kubeconfig {", ".join(paths)}: context "{name}" (the current-context) not found')
    context, where = found["contexts"][name]
    cluster, user = context.get("cluster"), context.get("user")
    if cluster not in found["clusters"]:
        raise LoginError(f'kubeconfig {where}: context "{name}" names cluster "{cluster}", which is not defined')
    if user and user not in found["users"]:
        raise LoginError(f'kubeconfig {where}: context "{name}" names user "{user}", which is not defined')
    body, where = found["clusters"][cluster]
    if not body.get("server"):
        raise LoginError(f'kubeconfig {where}: cluster "{cluster}" has no server')


def context_namespace(kubeconfig: str | None) -> str | None:
    """The namespace kubectl would default to: the current context's in the kubeconfig (already
    checked by resolve_kubeconfig), or in a pod its service account's; None when it names none."""
    if kubeconfig is None:
        try:
            return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
        except OSError:
            return None
    docs = [(path, _document(path)) for path in kubeconfig.split(os.pathsep)]
    name = next((str(doc["current-context"]) for _, doc in docs if doc.get("current-context")), "")
    context = _named(docs, "contexts").get(name)
    return str(context[0].get("namespace") or "") or None if context else None


def _document(path: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(Path(path).expanduser().read_text())
    except OSError as error:
        raise LoginError(f"kubeconfig {path}: cannot read it ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise LoginError(f"kubeconfig {path}: not YAML ({yaml_problem(error)})") from error
    if doc is not None and not isinstance(doc, dict):
        raise LoginError(f"kubeconfig {path}: not a kubeconfig (a YAML mapping of clusters, contexts and users)")
    return doc or {}


def _named(docs: list[tuple[str, dict[str, Any]]], kind: str) -> dict[str, tuple[dict[str, Any], str]]:
    """{name: (body, file)}: the first file to name an entry wins, as kubectl merges."""
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for path, doc in docs:
        for name, body in _entries(path, doc, kind):
            found.setdefault(name, (body, path))
    return found


def _entries(path: str, doc: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """`clusters: [{name: c, cluster: {...}}]` and the like, as (name, body)."""
    entries = doc.get(kind) or []
    if not isinstance(entries, list) or not all(_well_formed(entry, kind) for entry in entries):
        raise LoginError(f"kubeconfig {path}: {kind} must be a list of entries, each with a name")
    return ((entry["name"], entry.get(kind[:-1]) or {}) for entry in entries)


def _well_formed(entry: object, kind: str) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("name"), str) \
        and isinstance(entry.get(kind[:-1]) or {}, dict)


def yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's error in one line, what and where (its own text spans several lines)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} at line {error.problem_mark.line + 1}"
    return " ".join(str(error).split())


def login_fields(kubeconfig: str | None) -> dict[str, Any]:
    """kopf.ConnectionInfo's fields, read from the configuration api_client_from builds, so kopf and
    our own client reach the same server as the same user. Read afresh at each login (kopf logs in
    again after a 401), so a rotated service-account token or an exec plugin's new token is used."""
    configuration = api_client_from(kubeconfig).configuration
    header = configuration.get_api_key_with_prefix("BearerToken") \
        or configuration.get_api_key_with_prefix("authorization")
    scheme, _, token = (header or "").rpartition(" ")
    return {"server": configuration.host, "ca_path": configuration.ssl_ca_cert,
            "insecure": not configuration.verify_ssl, "username": configuration.username or None,
            "password": configuration.password or None, "scheme": scheme or None, "token": token or None,
            "certificate_path": configuration.cert_file, "private_key_path": configuration.key_file,
            "proxy_url": configuration.proxy}
