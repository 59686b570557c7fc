"""The plan builder: how a workflow becomes the task tree (SPEC section 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dtk_api.assembly import SpecError, parse_assembly
from dtk_api.placement import machine_names
from dtk_api.plan import PlanRequest, build_plan
from dtk_api.templating import TemplateError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The seed's table (000_*): index, label and node of all 37 rows, in order.
SEED_ROWS = """\
|assembly_converge|
1|create_nodes_stage|
1.1|create_node|master
1.2|create_node|slaves:1
1.3|create_node|slaves:2
2|bigtop_multiservice|
2.1|configure_node|assembly_wide
3|bigtop hiera|
3.1|configure_nodegroup|slaves
3.1.1|configure_node|slaves:1
3.1.2|configure_node|slaves:2
3.2|configure_node|master
4|bigtop_base|
4.1|configure_nodegroup|slaves
4.1.1|configure_node|slaves:1
4.1.2|configure_node|slaves:2
4.2|configure_node|master
5|namenode|
5.1|configure_node|master
6|if needed leave safemode|
6.1|action|master
7|namenode smoke test|
7.1|action|master
8|datanodes|
8.1|configure_nodegroup|slaves
8.1.1|configure_node|slaves:1
8.1.2|configure_node|slaves:2
9|hdfs directories for spark|
9.1|configure_node|master
10|spark master|
10.1|configure_node|master
11|spark workers|
11.1|configure_nodegroup|slaves
11.1.1|configure_node|slaves:1
11.1.2|configure_node|slaves:2
12|component gitarchive[mar01]|
12.1|configure_node|master"""


def spark_spec() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((EXAMPLES / "spark-cluster.yaml").read_text()))
    spec: dict[str, Any] = next(d for d in docs if d["kind"] == "Assembly")["spec"]
    return spec


def plan_for(spec: dict[str, Any], workflow: str = "create", **kwargs: Any) -> Any:
    assembly = parse_assembly(spec)
    missing = kwargs.pop("missing_nodes", machine_names(assembly, kwargs.get("cardinalities", {})))
    return build_plan(PlanRequest(assembly=assembly, workflow=workflow, missing_nodes=missing, **kwargs))


def test_spark_assembly_gives_the_seed_table_row_for_row() -> None:
    plan = plan_for(spark_spec())
    rows = "\n".join(f"{s.index}|{s.name}|{s.node}" for s in plan.steps)
    assert rows == SEED_ROWS
    assert len(plan.steps) == 37


def test_stage_rows_carry_what_the_stream_prints() -> None:
    steps = {s.index: s for s in plan_for(spark_spec()).steps}
    assert steps["1"].operation == "CreateNodes"
    assert steps["1"].nodes == ("master", "slaves:1", "slaves:2")
    assert steps["2"].components == ("assembly_wide/bigtop_multiservice",)
    assert steps["3"].components == (
        "node-group:slaves/bigtop_multiservice::hiera", "master/bigtop_multiservice::hiera")
    assert steps["7"].action == "master/hadoop::namenode.smoke_test"
    assert steps["8"].components == ("node-group:slaves/hadoop::common_hdfs", "node-group:slaves/hadoop::datanode")


def test_leaf_work_resolves_attributes_in_rising_priority() -> None:
    spec = spark_spec()
    spec["nodes"][0]["attributes"] = {"hadoop::namenode.port": "8021"}
    plan = plan_for(spec, instance_attributes={"master/hadoop::namenode.port": "8022"})
    unit = plan.work["5.1"].units[0]
    assert unit.component == "hadoop::namenode"
    assert unit.variables["port"] == "8022"
    assert plan_for(spec).work["5.1"].units[0].variables["port"] == "8021"
    assert plan_for(spark_spec()).work["5.1"].units[0].variables["port"] == "8020"


def test_one_missing_node_is_stage_one_without_wrapper() -> None:
    plan = plan_for(spark_spec(), missing_nodes=("slaves:2",))
    first = plan.steps[1]
    assert (first.index, first.kind, first.node, first.operation) == ("1", "create_node", "slaves:2", "CreateNode")
    assert plan.steps[2].index == "2" and plan.steps[2].name == "bigtop_multiservice"


def test_no_missing_node_means_no_node_stage() -> None:
    plan = plan_for(spark_spec(), missing_nodes=())
    assert plan.steps[1].name == "bigtop_multiservice" and plan.steps[1].index == "1"


def test_scale_up_creates_only_new_members_but_configures_all() -> None:
    plan = plan_for(spark_spec(), cardinalities={"slaves": 4}, missing_nodes=("slaves:3", "slaves:4"))
    assert plan.steps[1].nodes == ("slaves:3", "slaves:4")
    members = [s.node for s in plan.steps if s.index.startswith("4.1.")]
    assert members == ["slaves:1", "slaves:2", "slaves:3", "slaves:4"]


def test_power_on_stage_after_a_stop() -> None:
    plan = plan_for(spark_spec(), missing_nodes=(), stopped_nodes=("master", "slaves:1"))
    assert (plan.steps[1].name, plan.steps[1].operation) == ("power_on_nodes_stage", "PowerOnNodes")
    assert [s.kind for s in plan.steps[2:4]] == ["power_on_node", "power_on_node"]


def test_named_workflow_with_params_and_no_auto_stages() -> None:
    plan = plan_for(spark_spec(), "load_dataset", params={"name": "mar01"}, missing_nodes=())
    assert [(s.index, s.name, s.node) for s in plan.steps] == [
        ("", "load_dataset", ""), ("1", "load 'mar01'", ""), ("1.1", "action", "master")]
    assert plan.steps[2].action == "master/gitarchive[mar01].load"


@pytest.mark.parametrize("value", ["a b", "x;rm -rf /", "$(id)", "`id`", "a'b", "a\nb"])
def test_unsafe_param_value_is_refused_naming_the_param(value: str) -> None:
    with pytest.raises(TemplateError, match="param 'name'"):
        plan_for(spark_spec(), "load_dataset", params={"name": value}, missing_nodes=())


def test_unknown_variable_fails_naming_variable_and_term() -> None:
    spec = spark_spec()
    spec["components"][0]["create"] = [{"run": "echo {{nope}}"}]
    with pytest.raises(TemplateError, match=r"unknown variable 'nope' in 'echo \{\{nope\}\}'"):
        plan_for(spec)


def test_missing_declared_param_is_refused() -> None:
    with pytest.raises(TemplateError, match="needs param"):
        plan_for(spark_spec(), "load_dataset", missing_nodes=())


def test_action_on_a_title_not_placed_selects_nothing_but_unknown_action_fails() -> None:
    with pytest.raises(TemplateError, match="action 'nope' is not defined"):
        spec = spark_spec()
        spec["workflows"][1]["stages"][0]["actions"] = ["gitarchive[{{name}}].nope"]
        plan_for(spec, "load_dataset", params={"name": "x"}, missing_nodes=())


def test_digest_is_stable_and_changes_with_the_commands() -> None:
    assert plan_for(spark_spec()).digest == plan_for(spark_spec()).digest
    spec = spark_spec()
    spec["components"][0]["create"] = [{"run": "true"}]
    assert plan_for(spec).digest != plan_for(spark_spec()).digest


def _broken(mutate: Any) -> list[str]:
    spec = spark_spec()
    mutate(spec)
    with pytest.raises(SpecError) as caught:
        parse_assembly(spec)
    return list(caught.value.problems)


def test_invalid_assemblies_are_refused_with_a_clear_problem() -> None:
    assert "unknown component 'nope'" in _broken(lambda s: s["nodes"][0]["components"].append("nope"))[0]
    assert "unknown component 'x'" in _broken(
        lambda s: s["workflows"][0]["stages"].append({"name": "x", "components": ["x"]}))[0]
    assert "action 'nope' is not defined" in _broken(
        lambda s: s["workflows"][0]["stages"].append({"name": "x", "actions": ["hadoop::namenode.nope"]}))[0]
    assert "duplicate component name" in _broken(lambda s: s["components"].append(dict(s["components"][0])))[0]
    assert "cardinality -1" in _broken(lambda s: s["nodeGroups"][0].update(cardinality=-1))[0]
    assert "exactly one of" in _broken(
        lambda s: s["workflows"][0]["stages"].append({"name": "x", "components": ["bigtop_base"], "actions": []}))[0]
    assert "exactly one of" in _broken(lambda s: s["workflows"][0]["stages"].append({"name": "x"}))[0]
    assert "unknown node 'ghost'" in _broken(
        lambda s: s["workflows"][0]["stages"][0].update(node="ghost"))[0]
    assert "duplicate node or node group name" in _broken(
        lambda s: s["nodes"].append({"name": "slaves", "components": []}))[0]
