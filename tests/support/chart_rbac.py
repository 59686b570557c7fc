"""The chart's RBAC against what the operator really does: the chart rendered by Helm's own library,
the grants its bindings give the operator's ServiceAccount, and the record of the operator's accesses.

The record (tests/chart/e2e-api-access.json) is what the operator (and kubectl dtk) asked the API
server for during a whole end-to-end run: every distinct (client, verb, group, resource,
subresource, scope, named or not), where scope is a namespace or the cluster. The e2e suite runs
each operator with `-n <its test namespace>`, so the record holds namespace-relative facts; `place`
puts them where an installation of the chart would make them (its watched namespaces, its Lease's
namespace), from the Deployment's own arguments. Regenerate it with a full e2e run:

    DTK_RECORD_API_ACCESS=tests/chart/e2e-api-access.json .venv/bin/python -m pytest -q -n 0 tests/e2e

(in one process: `make test` spreads the tests over pytest-xdist workers, each with its own
emulator, and each would see only its share).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from dtk_sandbox.kubeapi.rbac import DISCOVERY, Access, Grant, denied, grants_for, unused

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "dtk-operator"
RECORD = ROOT / "tests" / "chart" / "e2e-api-access.json"
RECORD_ENV = "DTK_RECORD_API_ACCESS"  # where an e2e session writes the record it made (unset: nowhere)
RELEASE, RELEASE_NAMESPACE = "dtk", "dtk-system"
WATCHED = ["team-a", "team-b"]  # the namespaces the watchNamespaces renderings are given
OPERATOR_AGENTS = ("kopf", "dtk-operator")  # User-Agent products of the operator's two API clients
PLUGIN_AGENT = "kubectl-dtk"
# Cluster-scoped kinds the operator's handlers serve: the same accesses from an operator of any scope.
CLUSTER_KINDS = frozenset({("dtk.io", "targets")})  # and their subresources
NAMESPACED = "<namespace>"  # the record's stand-in for "the namespace the operator was told to use"
NAMED = "<name>"  # and for "an object's name"
NAMESPACES = ("", "namespaces")
SECRETS = ("", "secrets")
LEASES = ("coordination.k8s.io", "leases")  # kept in the operator's own namespace, not a watched one

Manifest = dict[str, Any]
Recorded = tuple[str, Access]  # (User-Agent product, access)


def render(values: dict[str, Any], chart: Path = CHART) -> list[Manifest]:
    """`helm install --dry-run` of the chart, as objects (helm-python-sdk: Helm's Go library)."""
    import helm_python

    with helm_python.Chart.load(chart) as loaded:
        files = loaded.render(values, name=RELEASE, namespace=RELEASE_NAMESPACE, is_install=True)
    return [doc for path, text in sorted(files.items()) if not path.endswith("NOTES.txt")
            for doc in yaml.safe_load_all(text) if doc]


@dataclass(frozen=True)
class Installation:
    """Where a rendering's operator works, read from its Deployment: who it is and its arguments."""

    namespace: str
    service_account: str
    watched: tuple[str, ...]  # empty: every namespace (-A)
    lease: tuple[str, str] | None  # (namespace, name) with --leader-elect

    @classmethod
    def of(cls, manifests: Sequence[Manifest]) -> Installation:
        [deployment] = [doc for doc in manifests if doc["kind"] == "Deployment"]
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        args: list[str] = container["args"]
        watched = tuple(args[i + 1] for i, arg in enumerate(args) if arg in ("-n", "--namespace"))
        lease = ((_flag(args, "--lease-namespace"), _flag(args, "--lease-name"))
                 if "--leader-elect" in args else None)
        return cls(namespace=deployment["metadata"]["namespace"], service_account=pod["serviceAccountName"],
                   watched=watched, lease=lease)

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    def grants(self, manifests: Iterable[Manifest]) -> list[Grant]:
        """What the rendered bindings give this operator's ServiceAccount."""
        return grants_for(manifests, namespace=self.namespace, service_account=self.service_account)

    def place(self, access: Access, *, by_namespaced: bool = True) -> list[Access]:
        """Where this installation's operator makes an access recorded from an operator that watched
        given namespaces (`by_namespaced`, as the e2e suite runs it) or all of them: none, one, or one
        per watched namespace. Namespaced accesses are the handlers' and carry over between scopes;
        cluster-scoped ones are kopf's scans, which differ by scope, so they carry over only between
        operators of the same scope."""
        if access.path or (access.group, access.resource) in CLUSTER_KINDS:
            return [access]  # discovery, and the cluster-scoped kinds' handlers, whatever the scope
        if (access.group, access.resource) == NAMESPACES and access.verb == "get":
            # an instance's namespace, for its labels (a Target may allow namespaces by selector)
            return [replace(access, name=namespace) for namespace in self.watched] or [access]
        if not access.namespace:
            return [access] if by_namespaced == bool(self.watched) else []
        if (access.group, access.resource) == SECRETS:  # a Target's credentials: the operator's own namespace
            return [replace(access, namespace=self.namespace)]
        if (access.group, access.resource) == LEASES:
            if self.lease is None:
                return []  # no --leader-elect, no Lease
            namespace, name = self.lease
            return [replace(access, namespace=namespace, name=name if access.name else "")]
        return [replace(access, namespace=namespace) for namespace in self.watched or ("any-namespace",)]


def _flag(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def operator_accesses(recorded: Iterable[Recorded]) -> list[Access]:
    return sorted({access for agent, access in recorded if agent in OPERATOR_AGENTS})


def placed(installation: Installation, accesses: Iterable[Access], *, by_namespaced: bool = True) -> list[Access]:
    return sorted({where for access in accesses for where in installation.place(access, by_namespaced=by_namespaced)})


def with_discovery(grants: list[Grant]) -> list[Grant]:
    """The chart's grants plus what every authenticated client may read (discovery, /version)."""
    return [*grants, DISCOVERY]


# The record file: one JSON object per distinct access, sorted, with stand-ins for the test's own
# namespace and object names (only the Lease's name matters to the chart, and `place` sets it), so
# that it changes only when what the operator does changes.

def normalised(recorded: Iterable[Recorded]) -> list[Recorded]:
    return sorted({(agent, replace(access, namespace=NAMESPACED if access.namespace else "",
                                   name=NAMED if access.name else ""))
                   for agent, access in recorded})


def write_record(path: Path, recorded: Iterable[Recorded]) -> Path:
    lines = [json.dumps({"by": agent, **{k: v for k, v in vars(access).items() if v}})
             for agent, access in normalised(recorded)]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n")
    return path


def read_record(path: Path = RECORD) -> list[Recorded]:
    entries: list[dict[str, str]] = json.loads(path.read_text())
    return [(entry.pop("by"), Access(**entry)) for entry in entries]


def record_target() -> Path | None:
    target = os.environ.get(RECORD_ENV)
    if target and os.environ.get("PYTEST_XDIST_WORKER"):
        raise RuntimeError(f"{RECORD_ENV}: record a whole e2e run in one process (pytest -n 0); "
                           "an xdist worker sees only its share of the tests")
    return Path(target) if target else None


# Both directions, for one rendering.

RENDERINGS: dict[str, dict[str, Any]] = {
    "all namespaces": {},
    "all namespaces, 2 replicas": {"replicas": 2},
    "watchNamespaces": {"watchNamespaces": WATCHED},
    "watchNamespaces, 2 replicas": {"watchNamespaces": WATCHED, "replicas": 2},
}


def placed_for(manifests: Sequence[Manifest], *, by_namespaced: Iterable[Access],
               by_cluster_wide: Iterable[Access] = ()) -> list[Access]:
    """The accesses of operators run with -n (`by_namespaced`) and with -A (`by_cluster_wide`), placed
    where the rendering's operator would make them."""
    installation = Installation.of(manifests)
    return sorted({*placed(installation, by_namespaced),
                   *placed(installation, by_cluster_wide, by_namespaced=False)})


def not_allowed(manifests: Sequence[Manifest], accesses: Iterable[Access]) -> list[str]:
    """Enough: each placed access that the rendering's roles (with discovery) do not allow."""
    grants = with_discovery(Installation.of(manifests).grants(manifests))
    return [f"not allowed: {access}" for access in denied(grants, accesses)]


def never_used(manifests: Sequence[Manifest], accesses: Iterable[Access]) -> list[str]:
    """Least: each verb on each resource (or name) the roles grant that no placed access needed."""
    return [f"never used: {element}" for element in unused(Installation.of(manifests).grants(manifests), accesses)]


# The e2e suite's own check, at the end of every session on the emulator (full or partial).

def after_e2e(recorded: list[Recorded]) -> None:
    """Writes the session's record where DTK_RECORD_API_ACCESS says, then fails the session (an error
    at the teardown of its last test) if the chart does not let the operator do what it just did.
    Only "enough": a partial run cannot show that a rule is unused (tests/chart/test_rbac_proof.py
    does, on the record of a whole run)."""
    target = record_target()
    if target is not None:
        write_record(target, [(agent, access) for agent, access in recorded
                              if agent in (*OPERATOR_AGENTS, PLUGIN_AGENT)])
    accesses = operator_accesses(recorded)
    lines = []
    for name, values in RENDERINGS.items():
        manifests = render(values)
        lines += [f"  {name}: {line}" for line in not_allowed(manifests, placed_for(manifests, by_namespaced=accesses))]
    if lines:
        raise AssertionError("the operator made requests that helm/dtk-operator/templates/rbac.yaml does not "
                             "allow (add the rule, then regenerate tests/chart/e2e-api-access.json):\n"
                             + "\n".join(lines))
