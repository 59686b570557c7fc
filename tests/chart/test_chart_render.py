"""The Helm chart helm/dtk-operator, rendered and linted by Helm's own Go library (helm-python-sdk).

`Chart.render(..., is_install=True)` is `helm install --dry-run` without a cluster: the same
values coalescing, the same values.schema.json check, the same templates. The assertions are on
the objects a cluster would receive.
What it cannot prove: that an API server admits them, that the image runs as UID 65532 on a
read-only root, or that kopf answers the probe; that needs a cluster and the image.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import helm_python
import pytest
import yaml

import dtk_operator.__main__ as dtk_operator_cli
from kubectl_dtk.commands.version import versions

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "dtk-operator"
RELEASE, NAMESPACE = "dtk", "dtk-system"
FULLNAME = "dtk-dtk-operator"  # "<release>-<chart>"
IRSA = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/dtk-operator"}
# The second case: HA, two namespaces, IRSA, and both opt-in objects on.
HA_VALUES: dict[str, Any] = {
    "replicas": 2,
    "watchNamespaces": ["a", "b"],
    "serviceAccount": {"annotations": IRSA},
    "metrics": {"serviceMonitor": {"enabled": True}},
    "podDisruptionBudget": {"enabled": True},
}
RBAC_GROUP = "rbac.authorization.k8s.io/v1"
RBAC_TEMPLATE = CHART / "templates" / "rbac.yaml"

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


def render_files(chart: helm_python.Chart, values: dict[str, Any]) -> dict[str, str]:
    return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def render(chart: helm_python.Chart, values: dict[str, Any]) -> list[Manifest]:
    objects: list[Manifest] = []
    for path, text in render_files(chart, values).items():
        if not path.endswith("NOTES.txt"):
            objects += [doc for doc in yaml.safe_load_all(text) if doc]
    return objects


def one(objects: list[Manifest], kind: str) -> Manifest:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def operator_container(objects: list[Manifest]) -> Manifest:
    containers: list[Manifest] = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["operator"]
    return containers[0]


def flag_value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def named_port(container: Manifest, name: str) -> int:
    ports: dict[str, int] = {p["name"]: p["containerPort"] for p in container["ports"]}
    return ports[name]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


# Defaults: one operator, every namespace.

def test_defaults_render_the_operator_its_account_and_its_metrics_service(chart: helm_python.Chart) -> None:
    objects = render(chart, {})
    kinds = sorted(o["kind"] for o in objects if o["apiVersion"] != RBAC_GROUP)
    assert kinds == ["Deployment", "Service", "ServiceAccount"]  # no ServiceMonitor, no PDB: opt-in
    assert {o["metadata"]["namespace"] for o in objects if o["kind"] != "ClusterRole"
            and o["kind"] != "ClusterRoleBinding"} == {NAMESPACE}
    assert one(objects, "ServiceAccount")["metadata"]["name"] == FULLNAME
    assert "annotations" not in one(objects, "ServiceAccount")["metadata"]


def test_defaults_run_one_operator_on_every_namespace(chart: helm_python.Chart) -> None:
    objects = render(chart, {})
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    # The image's entrypoint is `dtk-operator run` (Containerfile): the args are its flags.
    assert operator_container(objects)["args"] == [
        "--all-namespaces", "--metrics-port", "9090", "--liveness", "http://0.0.0.0:8080/healthz"]


def test_the_default_image_is_the_one_make_image_builds(chart: helm_python.Chart) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert chart.metadata["appVersion"] == version
    assert operator_container(render(chart, {}))["image"] == f"localhost/dtk-operator:{version}"  # image/common.sh


def test_kubectl_dtk_version_finds_the_charts_operator_by_its_labels(chart: helm_python.Chart) -> None:
    """`kubectl dtk version --server` lists Deployments by OPERATOR_SELECTOR and reads their
    version label and image: the chart's Deployment must carry what it looks for."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    deployment = one(render(chart, {"replicas": 2}), "Deployment")
    key, value = versions.OPERATOR_SELECTOR.split("=")
    assert deployment["metadata"]["labels"][key] == value
    found = versions.operator_entry({**deployment, "status": {"readyReplicas": 1}})
    assert found == {"namespace": NAMESPACE, "name": deployment["metadata"]["name"], "version": version,
                     "image": f"localhost/dtk-operator:{version}", "replicas": 2, "readyReplicas": 1}
    assert versions.version_text({"clientVersion": version, "operators": [found], "crds": []}) == (
        f"Client Version: v{version}\nOperator Version: v{version} ({NAMESPACE}/{deployment['metadata']['name']}, "
        f"image localhost/dtk-operator:{version}, 1/2 ready)\n")


def test_the_pod_is_hardened(chart: helm_python.Chart) -> None:
    objects = render(chart, {})
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                      "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}}
    assert operator_container(objects)["securityContext"] == {
        "runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
        "privileged": False, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    assert not {"hostNetwork", "hostPID", "hostIPC"} & pod.keys()
    assert pod["serviceAccountName"] == FULLNAME


def test_tmp_is_a_bounded_empty_dir_holding_the_local_root(chart: helm_python.Chart) -> None:
    objects = render(chart, {})
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    container = operator_container(objects)
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DTK_LOCAL_ROOT"] == "/tmp/dtk-local"  # under the mount, whatever the image says
    unbounded = render(chart, {"tmpSizeLimit": ""})
    assert one(unbounded, "Deployment")["spec"]["template"]["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}}]


def test_the_liveness_probe_asks_the_endpoint_the_operator_serves(chart: helm_python.Chart) -> None:
    container = operator_container(render(chart, {}))
    served = urlsplit(flag_value(container["args"], "--liveness"))
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == served.path == "/healthz"
    assert named_port(container, probe["port"]) == served.port == 8080
    assert "readinessProbe" not in container  # kopf serves liveness only


def test_resources_have_requests_and_limits(chart: helm_python.Chart) -> None:
    resources = operator_container(render(chart, {}))["resources"]
    assert resources == {"requests": {"cpu": "100m", "memory": "192Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    smaller = {"resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}
    assert operator_container(render(chart, smaller))["resources"]["limits"] == {"cpu": "1", "memory": "256Mi"}


def test_the_metrics_service_reaches_the_port_the_operator_serves(chart: helm_python.Chart) -> None:
    objects = render(chart, {"metrics": {"port": 9100}})
    service, container = one(objects, "Service"), operator_container(objects)
    pod_labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert selects(service["spec"]["selector"], pod_labels)
    [port] = service["spec"]["ports"]
    assert port["port"] == 9100 and port["name"] == "metrics"
    assert named_port(container, port["targetPort"]) == int(flag_value(container["args"], "--metrics-port")) == 9100


# The second case: replicas 2, watchNamespaces [a, b], IRSA, ServiceMonitor (and PDB) on.

def test_two_replicas_elect_a_leader_and_roll(chart: helm_python.Chart) -> None:
    objects = render(chart, HA_VALUES)
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    args = operator_container(objects)["args"]
    assert "--leader-elect" in args
    assert flag_value(args, "--lease-namespace") == NAMESPACE
    assert flag_value(args, "--lease-name") == FULLNAME  # two releases in one namespace never share a Lease
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in operator_container(objects)["env"]
           if "valueFrom" in e}
    assert env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}


def test_watch_namespaces_become_namespace_flags(chart: helm_python.Chart) -> None:
    args = operator_container(render(chart, HA_VALUES))["args"]
    assert args[:4] == ["--namespace", "a", "--namespace", "b"]
    assert "--all-namespaces" not in args


def test_the_irsa_annotation_lands_on_the_account_the_pod_uses(chart: helm_python.Chart) -> None:
    objects = render(chart, HA_VALUES)
    account = one(objects, "ServiceAccount")
    assert account["metadata"]["annotations"] == IRSA
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_the_service_monitor_scrapes_the_metrics_service(chart: helm_python.Chart) -> None:
    values = {**HA_VALUES, "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}}
    objects = render(chart, values)
    monitor, service = one(objects, "ServiceMonitor"), one(objects, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["spec"]["endpoints"] == [{"port": service["spec"]["ports"][0]["name"], "path": "/metrics",
                                             "interval": "30s"}]


def test_the_disruption_budget_covers_the_operator_pods(chart: helm_python.Chart) -> None:
    objects = render(chart, HA_VALUES)
    budget = one(objects, "PodDisruptionBudget")
    pod_labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert budget["apiVersion"] == "policy/v1" and budget["spec"]["maxUnavailable"] == 1
    assert selects(budget["spec"]["selector"]["matchLabels"], pod_labels)


# The operator's own command line reads the flags the chart passes.

@pytest.mark.parametrize("values", [{}, HA_VALUES, {"allowLocalTarget": True, "logLevel": "debug",
                                                    "localMaxProcesses": 32}],
                         ids=["defaults", "ha", "local-debug"])
def test_dtk_operator_run_accepts_the_args(chart: helm_python.Chart, values: dict[str, Any]) -> None:
    args = operator_container(render(chart, values))["args"]
    parsed = dtk_operator_cli._parser().parse_args(["run", *args])  # the image runs `dtk-operator run ARGS`
    ha = values is HA_VALUES
    assert (parsed.all_namespaces, parsed.namespace) == ((False, ["a", "b"]) if ha else (True, []))
    assert (parsed.metrics_port, parsed.liveness) == (9090, "http://0.0.0.0:8080/healthz")
    assert (parsed.leader_elect, parsed.lease_name, parsed.lease_namespace) == (
        (True, FULLNAME, NAMESPACE) if ha else (False, None, None))
    assert parsed.allow_local_target == parsed.verbose == bool(values.get("allowLocalTarget"))
    if parsed.allow_local_target:
        assert parsed.local_max_processes == 32


# Other switches.

def test_local_target_debug_logs_and_an_image_tag(chart: helm_python.Chart) -> None:
    values = {"allowLocalTarget": True, "logLevel": "debug", "image": {"tag": "1.0", "repository": "registry:5000/dtk"}}
    container = operator_container(render(chart, values))
    assert "--allow-local-target" in container["args"] and "--verbose" in container["args"]
    assert container["image"] == "registry:5000/dtk:1.0"
    assert "--allow-local-target" not in operator_container(render(chart, {}))["args"]


def test_an_existing_service_account_is_used_not_created(chart: helm_python.Chart) -> None:
    objects = render(chart, {"serviceAccount": {"create": False, "name": "ops"}})
    assert [o for o in objects if o["kind"] == "ServiceAccount"] == []
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "ops"


def test_notes_say_how_to_check_it_apply_a_sample_and_use_the_plugin(chart: helm_python.Chart) -> None:
    notes = render_files(chart, HA_VALUES)["dtk-operator/templates/NOTES.txt"]
    assert f"kubectl -n {NAMESPACE} rollout status deployment/{FULLNAME}" in notes
    assert "kubectl apply -n a -f crds/samples/assembly.yaml -f crds/samples/serviceinstance.yaml" in notes
    assert "kubectl dtk task-status -n a spark-cluster1 --wait" in notes
    assert f"kubectl -n {NAMESPACE} get lease {FULLNAME}" in notes


# values.schema.json and values.yaml.

@pytest.mark.parametrize(("values", "refusal"), [
    ({"replicas": 0}, "at '/replicas': minimum: got 0, want 1"),
    ({"image": {"tag": 1.2}}, "at '/image/tag': got number, want string"),
    ({"image": {"tag": 2}}, "at '/image/tag': got number, want string"),
    ({"replicaCount": 2}, "additional properties 'replicaCount' not allowed"),
    ({"logLevel": "trace"}, "at '/logLevel': value must be one of 'info', 'debug'"),
    ({"metrics": {"port": 8080}}, "at '/metrics/port'"),  # the liveness endpoint's port
    ({"watchNamespaces": ["Team_A"]}, "at '/watchNamespaces/0'"),
    ({"allowLocalTarget": "yes"}, "at '/allowLocalTarget': got string, want boolean"),
    ({"localMaxProcesses": 0}, "at '/localMaxProcesses': minimum: got 0, want 1"),
])
def test_the_schema_refuses_bad_values(chart: helm_python.Chart, values: dict[str, Any], refusal: str) -> None:
    with pytest.raises(helm_python.HelmValuesError) as refused:
        render(chart, values)
    assert refusal in str(refused.value)


def test_every_value_is_commented() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    uncommented = [path for path, keys in value_leaves()
                   if not any(lines[n - 1].lstrip().startswith("#") for n in keys if n > 0)]
    assert uncommented == []


def value_leaves() -> list[tuple[str, tuple[int, ...]]]:
    """values.yaml's leaves: dotted path, and the (0-based) lines of its key and its parents' keys."""
    root = yaml.compose((CHART / "values.yaml").read_text())
    if root is None:
        pytest.fail("values.yaml is empty")
    return list(_leaves(root, (), ()))


def _leaves(node: yaml.Node, path: tuple[str, ...], lines: tuple[int, ...]) -> Iterator[tuple[str, tuple[int, ...]]]:
    if isinstance(node, yaml.MappingNode) and node.value:
        for key, value in node.value:
            yield from _leaves(value, (*path, key.value), (*lines, key.start_mark.line))
    else:
        yield ".".join(path), lines


def test_every_value_is_declared_in_the_schema(chart: helm_python.Chart) -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    undeclared = [path for path, _ in value_leaves() if not _declared(schema, path.split("."))]
    assert undeclared == []
    assert chart.schema == schema


def _declared(schema: dict[str, Any], path: list[str]) -> bool:
    """Whether the schema names this key path (a map's `additionalProperties` names any key)."""
    root, node = schema, schema
    for key in path:
        node = _resolve(root, node)
        if key in node.get("properties", {}):
            node = node["properties"][key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return False
    return True


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def test_strict_lint_passes() -> None:
    for values in ({}, HA_VALUES):
        report = helm_python.lint(CHART, values, strict=True, namespace=NAMESPACE)
        assert report["errors"] == []
        assert [m for m in report["messages"] if m["severity"] >= 2] == []  # 2 warning, 3 error
    refused = helm_python.lint(CHART, {"replicas": 0}, strict=True, namespace=NAMESPACE)
    assert any("minimum: got 0, want 1" in m["error"] for m in refused["messages"])  # lint reads the schema


# The CRDs: the same files as crds/.

def test_the_chart_crds_are_the_repository_crds(chart: helm_python.Chart) -> None:
    repository = {p.name: p.read_bytes() for p in sorted((ROOT / "crds").glob("*.yaml"))}
    packaged = {p.name: p.read_bytes() for p in sorted((CHART / "crds").iterdir())}
    assert sorted(repository) == [
        "assembly.yaml", "nodeshard.yaml", "serviceinstance.yaml", "target.yaml", "task.yaml", "taskshard.yaml"]
    assert packaged == repository, "run `make chart-crds` after changing crds/"
    loaded = {Path(c["filename"]).name: c["data"] for c in chart.crds}
    assert loaded == {name: data.decode() for name, data in repository.items()}


# RBAC (templates/rbac.yaml): kinds and no wildcard, on what the chart renders.

def rbac(objects: list[Manifest]) -> list[Manifest]:
    if not RBAC_TEMPLATE.exists():
        pytest.skip("templates/rbac.yaml is not in the chart yet")
    return [o for o in objects if o["apiVersion"] == RBAC_GROUP]


def bound_to_operator(objects: list[Manifest], kind: str) -> list[Manifest]:
    operator = {"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}
    return [o for o in objects if o["kind"] == kind and operator in o.get("subjects", [])]


def cluster_bound_rules(objects: list[Manifest]) -> list[Manifest]:
    """The rules the operator holds in every namespace: its ClusterRoleBindings' ClusterRoles'."""
    names = [b["roleRef"]["name"] for b in bound_to_operator(objects, "ClusterRoleBinding")]
    roles = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ClusterRole"}
    assert set(names) <= roles.keys(), "a ClusterRoleBinding names a ClusterRole the chart does not render"
    return [rule for name in names for rule in roles[name].get("rules", [])]


def test_rbac_all_namespaces_is_a_cluster_role(chart: helm_python.Chart) -> None:
    rules = cluster_bound_rules(rbac(render(chart, {})))
    granted = {resource for rule in rules if "dtk.io" in rule["apiGroups"] for resource in rule["resources"]}
    assert {"assemblies", "serviceinstances", "tasks"} <= granted


def test_rbac_watch_namespaces_are_roles_in_each(chart: helm_python.Chart) -> None:
    objects = rbac(render(chart, HA_VALUES))
    everywhere = [rule for rule in cluster_bound_rules(objects) if "dtk.io" in rule["apiGroups"]]
    # cluster-wide: only the cluster-scoped Targets, and the watched namespaces themselves (their labels)
    assert {resource for rule in everywhere for resource in rule["resources"]} == {"targets", "targets/status"}
    [namespaces] = [rule for rule in cluster_bound_rules(objects) if "namespaces" in rule["resources"]]
    assert (namespaces["verbs"], sorted(namespaces["resourceNames"])) == (["get"], ["a", "b"])
    bound = {o["metadata"]["namespace"] for o in bound_to_operator(objects, "RoleBinding")}
    assert {"a", "b"} <= bound
    roles = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects if o["kind"] == "Role"}
    for binding in bound_to_operator(objects, "RoleBinding"):
        if binding["roleRef"]["kind"] == "Role":
            assert (binding["metadata"]["namespace"], binding["roleRef"]["name"]) in roles


@pytest.mark.parametrize("values", [{}, HA_VALUES], ids=["all namespaces", "watchNamespaces"])
def test_rbac_reads_secrets_in_the_release_namespace_only(chart: helm_python.Chart, values: dict[str, Any]) -> None:
    """Targets' credentials: never a cluster-wide `secrets` rule, and no Secret in a tenant's namespace."""
    objects = rbac(render(chart, values))
    assert [rule for rule in cluster_bound_rules(objects) if "secrets" in rule["resources"]] == []
    assert not [o for o in objects if o["kind"] == "ClusterRole" and any("secrets" in rule["resources"]
                                                                        for rule in o["rules"])]
    where = {o["metadata"]["namespace"] for o in objects if o["kind"] == "Role"
             and any("secrets" in rule["resources"] for rule in o["rules"])}
    assert where == {NAMESPACE}


def test_rbac_lets_the_replicas_hold_their_lease(chart: helm_python.Chart) -> None:
    objects = rbac(render(chart, HA_VALUES))
    here = {b["roleRef"]["name"] for b in bound_to_operator(objects, "RoleBinding")
            if b["metadata"]["namespace"] == NAMESPACE and b["roleRef"]["kind"] == "Role"}
    verbs = {verb for o in objects if o["kind"] == "Role" and o["metadata"]["namespace"] == NAMESPACE
             and o["metadata"]["name"] in here for rule in o["rules"]
             if "coordination.k8s.io" in rule["apiGroups"] and "leases" in rule["resources"] for verb in rule["verbs"]}
    assert {"get", "create", "update"} <= verbs


def test_rbac_gives_users_aggregated_view_and_edit_roles(chart: helm_python.Chart) -> None:
    objects = rbac(render(chart, {}))
    labels = [o["metadata"].get("labels", {}) for o in objects if o["kind"] == "ClusterRole"]
    for aggregate in ("view", "edit"):
        assert any(lab.get(f"rbac.authorization.k8s.io/aggregate-to-{aggregate}") == "true" for lab in labels)


@pytest.mark.parametrize("values", [{}, HA_VALUES], ids=["defaults", "ha"])
def test_rbac_has_no_wildcard(chart: helm_python.Chart, values: dict[str, Any]) -> None:
    rules = [rule for o in rbac(render(chart, values)) for rule in o.get("rules", [])]
    assert rules
    fields = ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs")
    wildcards = [rule for rule in rules if any("*" in item for field in fields for item in rule.get(field, []))]
    assert wildcards == []
