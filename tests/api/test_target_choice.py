"""Who may use a Target, and which Target an instance gets (dtk_api.targets)."""

from __future__ import annotations

from typing import Any

from dtk_api import conditions as c
from dtk_api.resources import DEFAULT_TARGET_ANNOTATION
from dtk_api.targets import allows, choose, runs_on_operator_host, selects


def target(name: str, allowed: Any = None, *, default: bool = False, provider: str = "ec2",
           transport: str = "ssm") -> dict[str, Any]:
    spec: dict[str, Any] = {"provider": provider}
    if provider == "ec2":
        spec["ec2"] = {"region": "us-east-1", "commandTransport": transport}
    if allowed is not None:
        spec["allowedNamespaces"] = allowed
    annotations = {DEFAULT_TARGET_ANNOTATION: "true"} if default else {}
    return {"metadata": {"name": name, "annotations": annotations}, "spec": spec}


def test_absent_allows_no_namespace_and_empty_allows_every_one() -> None:
    assert not allows(target("t"), "team-a", {})
    assert allows(target("t", {}), "team-a", {})
    assert allows(target("t", {}), "kube-system", {"x": "y"})


def test_a_list_and_a_selector_each_grant_their_namespaces() -> None:
    listed = target("t", {"list": ["team-a"]})
    assert allows(listed, "team-a", {}) and not allows(listed, "team-b", {})
    selected = target("t", {"selector": {"matchLabels": {"tenant": "data"}}})
    assert allows(selected, "x", {"tenant": "data"}) and not allows(selected, "x", {"tenant": "web"})
    both = target("t", {"list": ["team-a"], "selector": {"matchLabels": {"tenant": "data"}}})
    assert allows(both, "team-a", {}) and allows(both, "team-z", {"tenant": "data"})
    assert not allows(both, "team-z", {})
    assert not allows(target("t", {"list": []}), "team-a", {})  # an empty list is nobody, not everybody


def test_selector_expressions_as_kubernetes_reads_them() -> None:
    labels = {"tier": "prod", "team": "a"}
    assert selects({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["prod", "qa"]}]}, labels)
    assert not selects({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["prod"]}]}, labels)
    assert selects({"matchExpressions": [{"key": "team", "operator": "Exists"}]}, labels)
    assert not selects({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}, labels)
    assert selects({}, labels)  # an empty selector matches everything


def test_a_named_target_must_exist_and_allow_the_namespace() -> None:
    targets = [target("prod", {"list": ["team-b"]}), target("dev", {})]
    assert choose(targets, wanted="dev", namespace="team-a", labels={}).name == "dev"
    missing = choose(targets, wanted="gone", namespace="team-a", labels={})
    assert (missing.target, missing.reason) == (None, c.REASON_TARGET_NOT_FOUND)
    refused = choose(targets, wanted="prod", namespace="team-a", labels={})
    assert (refused.target, refused.reason) == (None, c.REASON_TARGET_NOT_ALLOWED)
    assert "does not allow namespace team-a" in refused.message


def test_without_a_name_the_one_default_allowed_for_the_namespace() -> None:
    targets = [target("a", {"list": ["team-b"]}, default=True), target("b", {"list": ["team-a"]}, default=True),
               target("c", {})]
    assert choose(targets, wanted="", namespace="team-a", labels={}).name == "b"
    none = choose([target("c", {})], wanted="", namespace="team-a", labels={})
    assert none.reason == c.REASON_TARGET_NOT_FOUND and "no default Target" in none.message


def test_two_defaults_for_one_namespace_are_reported_not_guessed() -> None:
    targets = [target("a", {}, default=True), target("b", {"list": ["team-a"]}, default=True)]
    both = choose(targets, wanted="", namespace="team-a", labels={})
    assert both.target is None and "2 default Targets allow namespace team-a (a, b)" in both.message
    assert choose(targets, wanted="", namespace="team-c", labels={}).name == "a"


def test_which_targets_run_steps_on_the_operators_host() -> None:
    assert runs_on_operator_host(target("l", provider="local"))
    assert runs_on_operator_host(target("e", transport="local"))
    assert not runs_on_operator_host(target("e"))
