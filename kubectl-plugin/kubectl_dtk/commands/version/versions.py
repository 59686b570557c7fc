"""`version [--server]`: the plugin's version; with --server, the operator's and the CRDs' as
installed in the cluster (what a bug report needs, and what an upgrade must keep in step).

The operator is found as Flux's and cert-manager's CLIs find their controllers: the Deployments
the chart labels `app.kubernetes.io/part-of: kube-dtk`, with their `app.kubernetes.io/version`
label, image and readiness. An operator run outside a Deployment (`dtk-operator run`, the
sandbox) has no such object and is reported as not found.
"""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError
from kubectl_dtk.commands.common import Flags, add_command
from kubectl_dtk.views.output import emit

DISTRIBUTION = "kube-dtk"
OPERATOR_SELECTOR = "app.kubernetes.io/part-of=kube-dtk"
KINDS = (r.ASSEMBLY_PLURAL, r.INSTANCE_PLURAL, r.TASK_PLURAL, r.TARGET_PLURAL, r.SHARD_PLURAL, r.NODE_SHARD_PLURAL)


def register(commands: Any, common_flags: Flags) -> None:
    parser = add_command(commands, common_flags, "version", run,
                         "the plugin's version (--server: the operator's and the CRDs' in the cluster)")
    parser.add_argument("--server", action="store_true",
                        help="also the operator's version and the dtk.io CRDs' API versions in the cluster")


def client_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "dev"


def run(ctx: Context, args: argparse.Namespace) -> int:
    found: dict[str, Any] = {"clientVersion": client_version()}
    if args.server:
        found["operators"] = _operators(ctx)
        found["crds"] = [_crd(ctx, plural) for plural in KINDS]
    if ctx.output in ("json", "yaml"):
        emit(ctx, headers=(), rows=(), objects=found)
    else:
        ctx.out.write(version_text(found))
    return exit_codes.OK


def _operators(ctx: Context) -> list[dict[str, Any]]:
    """Every Deployment of kube-dtk's chart the user may list (cluster-wide, else in -n's namespace)."""
    params = {"labelSelector": OPERATOR_SELECTOR}
    try:
        items = ctx.client.read("/apis/apps/v1/deployments", params=params).get("items", [])
    except ApiError as error:
        if error.not_found:  # an API server without apps/v1 (the sandbox's): no Deployment to find
            return []
        items = ctx.client.read(f"/apis/apps/v1/namespaces/{ctx.client.namespace}/deployments",
                                params=params).get("items", [])
    return [operator_entry(item) for item in items]


def operator_entry(deployment: Mapping[str, Any]) -> dict[str, Any]:
    meta, spec, status = (deployment.get(key) or {} for key in ("metadata", "spec", "status"))
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    return {"namespace": str(meta.get("namespace", "")), "name": str(meta.get("name", "")),
            "version": str((meta.get("labels") or {}).get("app.kubernetes.io/version", "")),
            "image": str(containers[0].get("image", "")),
            "replicas": int(spec.get("replicas", 1)), "readyReplicas": int(status.get("readyReplicas", 0))}


def _crd(ctx: Context, plural: str) -> dict[str, Any]:
    name = f"{plural}.{r.GROUP}"
    try:
        crd = ctx.client.read(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    except ApiError as error:
        if error.not_found:
            return {"name": name, "installed": False, "versions": []}
        raise
    versions = [{"name": str(v.get("name")), "served": bool(v.get("served")), "storage": bool(v.get("storage"))}
                for v in (crd.get("spec") or {}).get("versions") or []]
    return {"name": name, "installed": True, "versions": versions}


def version_text(found: Mapping[str, Any]) -> str:
    """kubectl version's shape: `Client Version: v0.1.0`, then what the cluster has."""
    lines = [f"Client Version: v{found['clientVersion']}"]
    if "operators" in found:
        lines += [f"Operator Version: {_operator_text(op)}" for op in found["operators"]] or [
            f"Operator Version: no Deployment labelled {OPERATOR_SELECTOR} found (an operator run outside one, "
            "as `dtk-operator run` or the sandbox, has none)"]
        lines += [f"CRD {crd['name']}: {_crd_text(crd)}" for crd in found["crds"]]
    return "\n".join(lines) + "\n"


def _operator_text(op: Mapping[str, Any]) -> str:
    version = f"v{op['version']}" if op["version"] else "unknown"
    return (f"{version} ({op['namespace']}/{op['name']}, image {op['image'] or '-'}, "
            f"{op['readyReplicas']}/{op['replicas']} ready)")


def _crd_text(crd: Mapping[str, Any]) -> str:
    if not crd["installed"]:
        return "not installed"
    return ", ".join(f"{v['name']}{' (storage)' if v['storage'] else ''}{'' if v['served'] else ' not served'}"
                     for v in crd["versions"])
