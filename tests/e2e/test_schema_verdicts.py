"""What the API server answers to writes of our custom resources: the verdicts of kube-apiserver 1.28.

One table of objects, valid and invalid, for all three kinds: creates, updates (transition rules
with oldSelf) and /status writes, each with what kube-apiserver 1.28 does with it under our CRDs —
accepts it (and stores it pruned and defaulted), or refuses it with 422 Invalid and exactly these
causes, or with 400 BadRequest under fieldValidation=Strict. Sent over HTTP with the kubernetes
client, as users' tools send them: against the emulator by default, against a real cluster with
DTK_TEST_KUBECONFIG.

The wording of every cause is kube-apiserver's (k8s.io/apimachinery field.Error.ErrorBody, the
kube-openapi validator, the CEL validator); see TOOLCHAIN.md for messages a real 1.28.4 printed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from _pytest.mark import ParameterSet
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from dtk_api import resources as r

pytestmark = pytest.mark.e2e

Body = dict[str, Any]
PLURALS = {r.ASSEMBLY_KIND: r.ASSEMBLY_PLURAL, r.INSTANCE_KIND: r.INSTANCE_PLURAL, r.TASK_KIND: r.TASK_PLURAL}

# ---- the base objects: valid, in the shapes of SPEC sections 2-4 -----------------------------

ASSEMBLY: Body = {
    "apiVersion": r.API_VERSION, "kind": r.ASSEMBLY_KIND, "metadata": {"name": "spark-cluster"},
    "spec": {
        "module": "bigtop:spark", "template": "cluster", "description": "spark cluster",
        "components": [
            {"name": "bigtop_base", "create": [{"run": "echo base on {{node.name}}"}]},
            {"name": "hadoop::namenode", "attributes": {"port": "8020"},
             "create": [{"run": "echo configure namenode on {{node.name}}"}],
             "actions": [{"name": "smoke_test", "steps": [
                 {"run": 'echo "namenode port={{port}}"'},
                 {"run": "netstat -nltp | grep {{port}}", "timeoutSeconds": 30, "unless": "test -f /tmp/skip"}]}]},
            {"name": "hadoop::datanode", "create": [{"run": "echo datanode"}]},
        ],
        "assemblyWide": ["bigtop_base"],
        "nodes": [{"name": "master", "binding": {"image": "ami-0abc", "instanceType": "m5.large"},
                   "components": ["bigtop_base", "hadoop::namenode"],
                   "attributes": {"hadoop::namenode.port": "8021"}}],
        "nodeGroups": [{"name": "slaves", "cardinality": 2,
                        "binding": {"image": "ami-0abc", "instanceType": "m5.large"},
                        "components": ["bigtop_base", "hadoop::datanode"]}],
        "workflows": [
            {"name": "create", "stages": [
                {"name": "base", "components": ["bigtop_base"]},
                {"name": "datanodes", "orderedComponents": ["hadoop::datanode"]},
                {"name": "smoke", "actions": ["hadoop::namenode.smoke_test"], "node": "master"}]},
            {"name": "load_dataset", "params": ["name"], "stages": [
                {"name": "load '{{name}}'", "actions": ["hadoop::namenode.smoke_test"]}]},
        ],
    },
}

INSTANCE: Body = {
    "apiVersion": r.API_VERSION, "kind": r.INSTANCE_KIND, "metadata": {"name": "spark-cluster1"},
    "spec": {"assemblyRef": {"name": "spark-cluster"}, "targetRef": {"name": "vpc-us-east-1"},
             "attributes": {"master/hadoop::namenode.port": "8021"},
             "nodeGroups": [{"name": "slaves", "cardinality": 4}]},
}

# What a ServiceInstance carried inline before Targets (admin-owned) took it over: refused now.
INLINE_TARGET: Body = {"name": "vpc-us-east-1", "provider": "ec2", "ec2": {
    "region": "us-east-1", "endpointURL": "http://127.0.0.1:18765", "roleArn": "arn:aws:iam::999999999999:role/x",
    "credentialsSecretRef": {"name": "aws-creds"}}}

TASK: Body = {
    "apiVersion": r.API_VERSION, "kind": r.TASK_KIND,
    "metadata": {"name": "spark-cluster1-2", "labels": {r.INSTANCE_LABEL: "spark-cluster1"}},
    "spec": {"serviceInstanceRef": {"name": "spark-cluster1"}, "workflow": "load_dataset",
             "params": {"name": "mar01"}, "message": "load the march data set"},
}

T0, T1 = "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:05.250Z"
TASK_STATUS: Body = {
    "state": "failed", "startedAt": T0, "endedAt": T1, "updatedAt": T1,
    "progress": {"completed": 1, "total": 2},
    "steps": [
        {"index": "", "kind": "task", "name": "load_dataset", "status": "failed", "startedAt": T0, "endedAt": T1},
        {"index": "1", "kind": "stage", "name": "load 'mar01'", "status": "failed", "startedAt": T0, "endedAt": T1,
         "action": "master/hadoop::namenode.smoke_test"},
        {"index": "1.1", "kind": "action", "name": "action", "node": "master", "status": "failed",
         "startedAt": T0, "endedAt": T1, "action": "master/hadoop::namenode.smoke_test",
         "results": [{"run": 'echo "namenode port=8021"', "type": "syscall", "returnCode": 0,
                      "stdout": "namenode port=8021\n", "stderr": ""},
                     {"run": "netstat -nltp | grep 8021", "type": "syscall", "returnCode": 1,
                      "stdout": "", "stderr": "", "truncated": False}],
         "errors": [{"type": "user", "message": "syscall status = 1"}]},
    ],
    "messages": [{"type": "notification", "time": T0, "text": "task started"},
                 {"type": "error", "time": T1, "text": "step 1.1 on master failed"}],
    "failure": {"index": "1.1", "node": "master", "message": "syscall status = 1", "returnCode": 1, "stderr": ""},
    "observedGeneration": 1,
    "conditions": [
        {"type": "Completed", "status": "True", "reason": "Failed", "message": "ended", "lastTransitionTime": T1},
        {"type": "Succeeded", "status": "False", "reason": "Failed", "message": "step 1.1", "lastTransitionTime": T1}],
}

INSTANCE_STATUS: Body = {
    "phase": "running", "lastRun": {"task": "spark-cluster1-1", "state": "succeeded"},
    "assemblyTemplate": "bigtop:spark/assembly/cluster", "nodeCount": 1,
    "nodes": [{"name": "master", "group": "", "instanceId": "sandbox-1", "state": "running", "privateIp": "127.0.0.1",
               "publicIp": "", "dnsName": "", "instanceType": "", "image": ""}],
    "observedGeneration": 1,
    "conditions": [{"type": "Ready", "status": "True", "reason": "Converged", "message": "ok",
                    "lastTransitionTime": T1}],
}

BASES = {r.ASSEMBLY_KIND: ASSEMBLY, r.INSTANCE_KIND: INSTANCE, r.TASK_KIND: TASK}

# ---- editing objects by path ---------------------------------------------------------------

DELETE = object()  # as a value in an edit: remove the key
ABSENT = object()  # as a value in `stored`: the path is not in the object read back
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [key if key else int(index) for key, index in _STEP.findall(path)]


def edited(body: Body, changes: dict[str, Any]) -> Body:
    """A copy of `body` with each `path: value` set (an index one past the end appends)."""
    out = copy.deepcopy(body)
    for path, value in changes.items():
        *parents, last = _steps(path)
        node: Any = out
        for step in parents:
            node = node[step]
        if value is DELETE:
            del node[last]
        elif isinstance(last, int) and last == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[last] = copy.deepcopy(value)
    return out


def lookup(body: Any, path: str) -> Any:
    node = body
    for step in _steps(path):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return ABSENT
        elif not isinstance(node, dict) or step not in node:
            return ABSENT
        node = node[step]
    return node


# ---- causes, worded as kube-apiserver 1.28 words them -----------------------------------------

@dataclass(frozen=True, order=True)
class Cause:
    reason: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def go(value: Any) -> str:
    """A bad value as field.Error prints it: strings quoted, numbers bare."""
    return json.dumps(value) if isinstance(value, str) else str(value)


INVALID, TYPE_INVALID = "FieldValueInvalid", "FieldValueTypeInvalid"


def required(path: str) -> Cause:
    return Cause("FieldValueRequired", path, "Required value")


def type_invalid(path: str, expected: str, sent: str) -> Cause:
    return Cause(TYPE_INVALID, path, f'Invalid value: "{sent}": {path} in body must be of type {expected}: "{sent}"')


def unsupported(path: str, value: str, *allowed: str) -> Cause:
    supported = ", ".join(go(a) for a in allowed)
    return Cause("FieldValueNotSupported", path, f"Unsupported value: {go(value)}: supported values: {supported}")


def minimum(path: str, value: int, bound: int) -> Cause:
    return Cause(INVALID, path, f"Invalid value: {value}: {path} in body should be greater than or equal to {bound}")


def maximum(path: str, value: int, bound: int) -> Cause:
    return Cause(INVALID, path, f"Invalid value: {value}: {path} in body should be less than or equal to {bound}")


def pattern(path: str, value: str, regex: str) -> Cause:
    return Cause(INVALID, path, f"Invalid value: {go(value)}: {path} in body should match '{regex}'")


def min_length(path: str, value: str, bound: int) -> Cause:
    return Cause(INVALID, path, f"Invalid value: {go(value)}: {path} in body should be at least {bound} chars long")


def too_long(path: str, bound: int) -> Cause:
    return Cause("FieldValueTooLong", path, f"Too long: may not be longer than {bound}")


def min_items(path: str, count: int, bound: int) -> Cause:
    return Cause(INVALID, path, f"Invalid value: {count}: {path} in body should have at least {bound} items")


def too_many(path: str, count: int, bound: int) -> Cause:
    return Cause("FieldValueTooMany", path, f"Too many: {count}: must have at most {bound} items")


def date_time(path: str, value: str) -> Cause:
    shown = go(value)
    return Cause(TYPE_INVALID, path, f"Invalid value: {shown}: {path} in body must be of type date-time: {shown}")


def duplicate_key(path: str, key: str, value: str) -> Cause:
    return Cause("FieldValueDuplicate", path, f'Duplicate value: map[string]interface {{}}{{"{key}":{go(value)}}}')


def duplicate(path: str, value: str) -> Cause:
    return Cause("FieldValueDuplicate", path, f"Duplicate value: {go(value)}")


def rule(path: str, schema_type: str, message: str) -> Cause:
    """A CEL rule's refusal, at the schema node carrying the rule, showing that node's type."""
    return Cause(INVALID, path, f'Invalid value: "{schema_type}": {message}')


# Added when an error of type Required, NotSupported, TooLong, TooMany or TypeInvalid stopped the
# CEL rules from being evaluated at all (hasBlockingErr in apiextensions-apiserver 1.28).
NOT_CHECKED = Cause(INVALID, "<nil>", 'Invalid value: "null": some validation rules were not checked because '
                    "the object was invalid; correct the existing errors to complete validation")

NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
COMPONENT_PATTERN = "^[A-Za-z0-9_]([A-Za-z0-9_:-]*[A-Za-z0-9_])?$"
WORKFLOW_PATTERN = "^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
VALUE_PATTERN = "^[A-Za-z0-9._:/@+=,-]*$"  # SPEC 2: Task params and ServiceInstance attributes
SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
             "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
             r"validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
STAGE_RULE = "a stage must have exactly one of components, orderedComponents or actions"
NODE_GROUP_RULE = ("a node and a node group cannot share a name (members of a group are named <group>:<n>, and "
                   "stages and attributes refer to both by name)")
TARGET_REF_RULE = "targetRef is immutable: an instance never moves its machines; create a new instance"
WORKFLOW_RULE = "workflow is immutable: create a new Task instead"
INSTANCE_REF_RULE = "serviceInstanceRef is immutable: create a new Task instead"
CANCEL_RULE = "cancel cannot be undone: create a new Task to run the workflow again"
TASK_STATES = ("pending", "executing", "succeeded", "failed", "cancelled")
STEP_KINDS = ("task", "stage", "create_node", "power_on_node", "configure_node", "configure_nodegroup", "action")
PWNED = "1; touch /tmp/pwned"


def unknown_field(path: str) -> str:
    """The Warning header a server sends for a pruned unknown field (fieldValidation=Warn)."""
    return f'299 - "unknown field \\"{path}\\""'


def strict_refusal(kind: str, path: str) -> str:
    return f'{kind} in version "v1alpha1" cannot be handled as a {kind}: strict decoding error: unknown field "{path}"'


# ---- the cases -------------------------------------------------------------------------------

Op = Literal["create", "update", "status"]


@dataclass(frozen=True)
class Case:
    kind: str
    body: Body  # what is sent: created, or PUT over `before` (update), or PUT to /status
    op: Op = "create"
    before: Body | None = None  # update and status: the object created first
    field_validation: str | None = None
    causes: frozenset[Cause] | None = None  # None: accepted; else refused with 422 Invalid and exactly these
    bad_request: str | None = None  # refused with 400 BadRequest and this message
    stored: dict[str, Any] = field(default_factory=dict)  # accepted: path -> value read back (ABSENT: gone)
    warnings: tuple[str, ...] = ()  # accepted: the response's Warning headers


def _param(case_id: str, case: Case) -> ParameterSet:
    return pytest.param(case, id=case_id)


def create(case_id: str, kind: str, changes: dict[str, Any], *causes: Cause, **options: Any) -> ParameterSet:
    body = edited(BASES[kind], changes)
    return _param(case_id, Case(kind, body, causes=frozenset(causes) if causes else None, **options))


def update(case_id: str, kind: str, changes: dict[str, Any], *causes: Cause, before: dict[str, Any] | None = None,
           **options: Any) -> ParameterSet:
    """PUT of the object `before` (the base with those changes) with `changes` applied on top."""
    old = edited(BASES[kind], before or {})
    return _param(case_id, Case(kind, edited(old, changes), "update", old,
                                causes=frozenset(causes) if causes else None, **options))


def status(case_id: str, kind: str, status_body: Body, changes: dict[str, Any], *causes: Cause,
           **options: Any) -> ParameterSet:
    """PUT to /status of the base object carrying `status_body` with `changes` applied."""
    body = edited({**BASES[kind], "status": status_body}, changes)
    return _param(case_id, Case(kind, body, "status", BASES[kind], causes=frozenset(causes) if causes else None,
                                **options))


A, SI, T = r.ASSEMBLY_KIND, r.INSTANCE_KIND, r.TASK_KIND
NG0 = "spec.nodeGroups[0]"
STAGES = "spec.workflows[0].stages"
MANY_STAGES = [{"name": f"s{n}", "components": ["bigtop_base"]} for n in range(201)]

CASES = [
    # -- Assembly creates ---------------------------------------------------------------------
    create("asm-valid", A, {}, stored={f"{NG0}.cardinality": 2, "spec.nodes[0].name": "master"}),
    create("asm-cardinality-defaults-to-1", A, {f"{NG0}.cardinality": DELETE}, stored={f"{NG0}.cardinality": 1}),
    create("asm-cardinality-null-defaults-to-1", A, {f"{NG0}.cardinality": None}, stored={f"{NG0}.cardinality": 1}),
    create("asm-typo-nodegroups-pruned-with-warning", A, {"spec.nodegroups": [{"name": "workers", "cardinality": 3}]},
           stored={"spec.nodegroups": ABSENT}, warnings=(unknown_field("spec.nodegroups"),)),
    create("asm-typo-nodegroups-strict", A, {"spec.nodegroups": [{"name": "workers", "cardinality": 3}]},
           field_validation="Strict", bad_request=strict_refusal(A, "spec.nodegroups")),
    create("asm-typo-nodegroups-ignored", A, {"spec.nodegroups": [{"name": "workers"}]}, field_validation="Ignore",
           stored={"spec.nodegroups": ABSENT}),
    create("asm-typo-cardinalty-pruned-then-defaulted", A, {f"{NG0}.cardinalty": 3, f"{NG0}.cardinality": DELETE},
           stored={f"{NG0}.cardinalty": ABSENT, f"{NG0}.cardinality": 1},
           warnings=(unknown_field(f"{NG0}.cardinalty"),)),
    create("asm-typo-cardinalty-strict", A, {f"{NG0}.cardinalty": 3}, field_validation="Strict",
           bad_request=strict_refusal(A, f"{NG0}.cardinalty")),
    create("asm-cardinality-string", A, {f"{NG0}.cardinality": "2"},
           type_invalid(f"{NG0}.cardinality", "integer", "string"), NOT_CHECKED),
    create("asm-cardinality-fraction", A, {f"{NG0}.cardinality": 1.5},
           type_invalid(f"{NG0}.cardinality", "integer", "number"), NOT_CHECKED),
    create("asm-cardinality-negative", A, {f"{NG0}.cardinality": -3}, minimum(f"{NG0}.cardinality", -3, 0)),
    create("asm-cardinality-5001", A, {f"{NG0}.cardinality": 5001}, maximum(f"{NG0}.cardinality", 5001, 5000)),
    create("asm-node-named-path", A, {"spec.nodes[0].name": "../../x"},
           pattern("spec.nodes[0].name", "../../x", NAME_PATTERN)),
    create("asm-node-named-with-capital", A, {"spec.nodes[0].name": "Master"},
           pattern("spec.nodes[0].name", "Master", NAME_PATTERN)),
    create("asm-node-name-64-chars", A, {"spec.nodes[0].name": "a" * 64}, too_long("spec.nodes[0].name", 63),
           NOT_CHECKED),
    create("asm-duplicate-node-names", A, {"spec.nodes[1]": {"name": "master"}},
           duplicate_key("spec.nodes[1]", "name", "master")),
    create("asm-duplicate-group-names", A, {"spec.nodeGroups[1]": {"name": "slaves"}},
           duplicate_key("spec.nodeGroups[1]", "name", "slaves")),
    create("asm-duplicate-component-names", A, {"spec.components[3]": {"name": "bigtop_base"}},
           duplicate_key("spec.components[3]", "name", "bigtop_base")),
    create("asm-duplicate-action-names", A,
           {"spec.components[1].actions[1]": {"name": "smoke_test", "steps": [{"run": "true"}]}},
           duplicate_key("spec.components[1].actions[1]", "name", "smoke_test")),
    create("asm-duplicate-workflow-names", A,
           {"spec.workflows[2]": {"name": "create", "stages": [{"name": "x", "components": ["bigtop_base"]}]}},
           duplicate_key("spec.workflows[2]", "name", "create")),
    create("asm-duplicate-param-names", A, {"spec.workflows[1].params": ["name", "name"]},
           duplicate("spec.workflows[1].params[1]", "name")),
    create("asm-node-and-group-share-a-name", A, {f"{NG0}.name": "master"}, rule("spec", "object", NODE_GROUP_RULE)),
    create("asm-stage-with-components-and-ordered", A, {f"{STAGES}[1].components": ["hadoop::datanode"]},
           rule(f"{STAGES}[1]", "object", STAGE_RULE)),
    create("asm-stage-with-components-and-actions", A, {f"{STAGES}[0].actions": ["hadoop::namenode.smoke_test"]},
           rule(f"{STAGES}[0]", "object", STAGE_RULE)),
    create("asm-stage-with-none", A, {f"{STAGES}[0].components": DELETE}, rule(f"{STAGES}[0]", "object", STAGE_RULE)),
    create("asm-workflow-with-no-stages", A, {STAGES: []}, min_items(STAGES, 0, 1)),
    create("asm-workflow-without-stages-key", A, {STAGES: DELETE}, required(STAGES), NOT_CHECKED),
    create("asm-stage-with-empty-components", A, {f"{STAGES}[0].components": []},
           min_items(f"{STAGES}[0].components", 0, 1)),
    create("asm-200-stages", A, {STAGES: MANY_STAGES[:200]}, stored={f"{STAGES}[199].name": "s199"}),
    create("asm-201-stages", A, {STAGES: MANY_STAGES}, too_many(STAGES, 201, 200), NOT_CHECKED),
    create("asm-unknown-component-in-stage-is-the-operators-call", A, {f"{STAGES}[0].components": ["ghost"]}),
    create("asm-unknown-stage-node-is-the-operators-call", A, {f"{STAGES}[2].node": "ghost"}),
    create("asm-undefined-action-is-the-operators-call", A, {f"{STAGES}[2].actions": ["hadoop::namenode.nope"]}),
    create("asm-step-timeout-zero", A, {"spec.components[0].create[0].timeoutSeconds": 0},
           minimum("spec.components[0].create[0].timeoutSeconds", 0, 1)),
    create("asm-step-run-empty", A, {"spec.components[0].create[0].run": ""},
           min_length("spec.components[0].create[0].run", "", 1)),
    create("asm-component-name-with-dot", A, {"spec.components[1].name": "hadoop.namenode"},
           pattern("spec.components[1].name", "hadoop.namenode", COMPONENT_PATTERN)),
    create("asm-workflow-name-with-space", A, {"spec.workflows[1].name": "load data"},
           pattern("spec.workflows[1].name", "load data", WORKFLOW_PATTERN)),
    create("asm-action-without-steps", A, {"spec.components[1].actions[0].steps": DELETE},
           required("spec.components[1].actions[0].steps"), NOT_CHECKED),
    create("asm-module-integer", A, {"spec.module": 5}, type_invalid("spec.module", "string", "integer"), NOT_CHECKED),
    create("asm-nodes-as-object", A, {"spec.nodes": {"master": {}}},
           type_invalid("spec.nodes", "array", "object"), NOT_CHECKED),
    create("asm-attribute-default-integer", A, {"spec.components[1].attributes.port": 8020},
           type_invalid("spec.components[1].attributes.port", "string", "integer"), NOT_CHECKED),
    create("asm-attribute-default-any-text", A, {"spec.components[1].attributes.port": "$(id); echo 8020"},
           stored={"spec.components[1].attributes.port": "$(id); echo 8020"}),
    create("asm-without-spec", A, {"spec": DELETE}, required("spec"), NOT_CHECKED),
    create("asm-bad-metadata-name", A, {"metadata.name": "Bad_Name"},
           Cause(INVALID, "metadata.name", f'Invalid value: "Bad_Name": {SUBDOMAIN}')),
    # -- ServiceInstance creates ---------------------------------------------------------------
    create("si-valid-defaults-filled", SI, {},
           stored={"spec.staged": False, "spec.power": "running", "spec.deletionPolicy": "Delete"}),
    create("si-inline-target-refused-when-strict", SI, {"spec.target": INLINE_TARGET}, field_validation="Strict",
           bad_request=strict_refusal(SI, "spec.target")),
    create("si-inline-target-pruned-with-warning", SI, {"spec.target": INLINE_TARGET}, field_validation="Warn",
           stored={"spec.target": ABSENT, "spec.targetRef.name": "vpc-us-east-1"},
           warnings=(unknown_field("spec.target"),)),
    create("si-staged-null-defaults-to-false", SI, {"spec.staged": None}, stored={"spec.staged": False}),
    create("si-typo-in-target-ref-pruned-with-warning", SI, {"spec.targetRef.nmae": "other"},
           stored={"spec.targetRef.nmae": ABSENT, "spec.targetRef.name": "vpc-us-east-1"},
           warnings=(unknown_field("spec.targetRef.nmae"),)),
    create("si-target-ref-without-name", SI, {"spec.targetRef": {}}, required("spec.targetRef.name"), NOT_CHECKED),
    create("si-target-ref-name-empty", SI, {"spec.targetRef.name": ""}, min_length("spec.targetRef.name", "", 1)),
    create("si-staged-string", SI, {"spec.staged": "string"}, type_invalid("spec.staged", "boolean", "string"),
           NOT_CHECKED),
    create("si-three-errors-as-toolchain-md", SI,
           {"spec.staged": "string", f"{NG0}.cardinality": -3, "spec.power": "sleeping"},
           type_invalid("spec.staged", "boolean", "string"),
           minimum(f"{NG0}.cardinality", -3, 0), unsupported("spec.power", "sleeping", "running", "stopped"),
           NOT_CHECKED),
    create("si-deletion-policy-lowercase", SI, {"spec.deletionPolicy": "delete"},
           unsupported("spec.deletionPolicy", "delete", "Delete", "Retain"), NOT_CHECKED),
    create("si-without-assembly-ref", SI, {"spec.assemblyRef": DELETE}, required("spec.assemblyRef"), NOT_CHECKED),
    create("si-name-63-chars", SI, {"metadata.name": "s" * 63}, stored={"metadata.name": "s" * 63}),
    create("si-name-64-chars", SI, {"metadata.name": "s" * 64}, too_long("metadata.name", 63), NOT_CHECKED),
    create("si-assembly-ref-without-name", SI, {"spec.assemblyRef": {}}, required("spec.assemblyRef.name"),
           NOT_CHECKED),
    create("si-without-target-ref-takes-the-default", SI, {"spec.targetRef": DELETE},
           stored={"spec.targetRef": ABSENT}),
    create("si-group-override-without-cardinality", SI, {f"{NG0}.cardinality": DELETE},
           required(f"{NG0}.cardinality"), NOT_CHECKED),
    create("si-duplicate-group-overrides", SI, {"spec.nodeGroups[1]": {"name": "slaves", "cardinality": 1}},
           duplicate_key("spec.nodeGroups[1]", "name", "slaves")),
    create("si-group-override-5001", SI, {f"{NG0}.cardinality": 5001}, maximum(f"{NG0}.cardinality", 5001, 5000)),
    create("si-attribute-shell-injection", SI, {"spec.attributes": {"master/hadoop::namenode.port": PWNED}},
           pattern("spec.attributes.master/hadoop::namenode.port", PWNED, VALUE_PATTERN)),
    create("si-attribute-257-chars", SI, {"spec.attributes": {"master/hadoop::namenode.port": "1" * 257}},
           too_long("spec.attributes.master/hadoop::namenode.port", 256), NOT_CHECKED),
    # -- Task creates --------------------------------------------------------------------------
    create("task-valid-defaults-filled", T, {}, stored={"spec.cancel": False, "spec.timeoutSeconds": 1200}),
    create("task-param-shell-injection", T, {"spec.params.name": PWNED},
           pattern("spec.params.name", PWNED, VALUE_PATTERN)),
    create("task-param-256-chars", T, {"spec.params.name": "a" * 256}, stored={"spec.params.name": "a" * 256}),
    create("task-param-257-chars", T, {"spec.params.name": "a" * 257}, too_long("spec.params.name", 256), NOT_CHECKED),
    create("task-timeout-string", T, {"spec.timeoutSeconds": "1200"},
           type_invalid("spec.timeoutSeconds", "integer", "string"), NOT_CHECKED),
    create("task-timeout-zero", T, {"spec.timeoutSeconds": 0}, minimum("spec.timeoutSeconds", 0, 1)),
    create("task-cancel-string-false", T, {"spec.cancel": "false"}, type_invalid("spec.cancel", "boolean", "string"),
           NOT_CHECKED),
    create("task-without-workflow", T, {"spec.workflow": DELETE}, required("spec.workflow"), NOT_CHECKED),
    create("task-workflow-null", T, {"spec.workflow": None}, required("spec.workflow"), NOT_CHECKED),
    create("task-message-null-dropped", T, {"spec.message": None}, stored={"spec.message": ABSENT}),
    create("task-workflow-with-space", T, {"spec.workflow": "load data"},
           pattern("spec.workflow", "load data", WORKFLOW_PATTERN)),
    create("task-instance-ref-without-name", T, {"spec.serviceInstanceRef": {}},
           required("spec.serviceInstanceRef.name"), NOT_CHECKED),
    create("task-status-in-create-is-dropped", T, {"status": {"state": "bogus"}}, stored={"status": ABSENT}),
    # -- Task updates: transition rules ---------------------------------------------------------
    update("task-update-unchanged", T, {}),
    update("task-update-message", T, {"spec.message": "retry"}, stored={"spec.message": "retry"}),
    update("task-update-workflow", T, {"spec.workflow": "create"}, rule("spec.workflow", "string", WORKFLOW_RULE)),
    update("task-update-instance-ref", T, {"spec.serviceInstanceRef.name": "other"},
           rule("spec.serviceInstanceRef", "object", INSTANCE_REF_RULE)),
    update("task-update-workflow-and-instance-ref", T,
           {"spec.workflow": "create", "spec.serviceInstanceRef.name": "other"},
           rule("spec.workflow", "string", WORKFLOW_RULE),
           rule("spec.serviceInstanceRef", "object", INSTANCE_REF_RULE)),
    update("task-update-workflow-to-bad-name", T, {"spec.workflow": "load data"},
           pattern("spec.workflow", "load data", WORKFLOW_PATTERN), rule("spec.workflow", "string", WORKFLOW_RULE)),
    update("task-update-workflow-and-bad-timeout-rules-unchecked", T,
           {"spec.workflow": "create", "spec.timeoutSeconds": "x"},
           type_invalid("spec.timeoutSeconds", "integer", "string"), NOT_CHECKED),
    update("task-cancel", T, {"spec.cancel": True}, stored={"spec.cancel": True}),
    update("task-cancel-stays-true", T, {"spec.message": "still cancelled"}, before={"spec.cancel": True},
           stored={"spec.cancel": True}),
    update("task-cancel-undone", T, {"spec.cancel": False}, rule("spec.cancel", "boolean", CANCEL_RULE),
           before={"spec.cancel": True}),
    update("task-cancel-dropped-defaults-to-false", T, {"spec.cancel": DELETE},
           rule("spec.cancel", "boolean", CANCEL_RULE), before={"spec.cancel": True}),
    update("task-update-typo-cancle-pruned-with-warning", T, {"spec.cancle": True},
           stored={"spec.cancle": ABSENT, "spec.cancel": False}, warnings=(unknown_field("spec.cancle"),)),
    update("task-update-typo-cancle-strict", T, {"spec.cancle": True}, field_validation="Strict",
           bad_request=strict_refusal(T, "spec.cancle")),
    update("task-update-ignores-status", T, {"status": {"state": "succeeded"}}, stored={"status": ABSENT}),
    update("si-update-power-stopped", SI, {"spec.power": "stopped"}, stored={"spec.power": "stopped"}),
    update("si-update-target-ref-changed", SI, {"spec.targetRef.name": "vpc-eu-west-1"},
           rule("spec", "object", TARGET_REF_RULE)),
    update("si-update-target-ref-dropped", SI, {"spec.targetRef": DELETE}, rule("spec", "object", TARGET_REF_RULE)),
    update("si-update-target-ref-given-once", SI, {"spec.targetRef": {"name": "vpc-us-east-1"}},
           before={"spec.targetRef": DELETE}, stored={"spec.targetRef.name": "vpc-us-east-1"}),
    update("asm-update-negative-cardinality", A, {f"{NG0}.cardinality": -1}, minimum(f"{NG0}.cardinality", -1, 0)),
    # -- /status writes -------------------------------------------------------------------------
    status("task-status-valid", T, TASK_STATUS, {},
           stored={"status.state": "failed", "status.steps[2].results[1].returnCode": 1,
                   "status.failure.index": "1.1"}),
    status("task-status-result-without-return-code", T, TASK_STATUS, {"status.steps[2].results[1].returnCode": DELETE},
           stored={"status.steps[2].results[1].returnCode": ABSENT, "status.steps[2].results[1].stdout": ""}),
    status("task-status-result-return-code-null", T, TASK_STATUS, {"status.steps[2].results[1].returnCode": None},
           stored={"status.steps[2].results[1].returnCode": None}),
    status("task-status-result-without-stderr", T, TASK_STATUS, {"status.steps[2].results[1].stderr": DELETE},
           required("status.steps[2].results[1].stderr"), NOT_CHECKED),
    status("task-status-state-running", T, TASK_STATUS, {"status.state": "running"},
           unsupported("status.state", "running", *TASK_STATES), NOT_CHECKED),
    status("task-status-started-yesterday", T, TASK_STATUS, {"status.startedAt": "yesterday"},
           date_time("status.startedAt", "yesterday"), NOT_CHECKED),
    status("task-status-step-kind-node", T, TASK_STATUS, {"status.steps[2].kind": "node"},
           unsupported("status.steps[2].kind", "node", *STEP_KINDS), NOT_CHECKED),
    status("task-status-error-type-fatal", T, TASK_STATUS, {"status.steps[2].errors[0].type": "fatal"},
           unsupported("status.steps[2].errors[0].type", "fatal", "user", "server", "test"), NOT_CHECKED),
    status("task-status-progress-string", T, TASK_STATUS, {"status.progress.completed": "1"},
           type_invalid("status.progress.completed", "integer", "string"), NOT_CHECKED),
    status("task-status-duplicate-condition", T, TASK_STATUS, {"status.conditions[1].type": "Completed"},
           duplicate_key("status.conditions[1]", "type", "Completed")),
    status("task-status-write-ignores-spec", T, TASK_STATUS, {"spec.workflow": "create"},
           stored={"spec.workflow": "load_dataset", "status.state": "failed"}),
    status("task-status-typo-pruned-with-warning", T, TASK_STATUS, {"status.progress.totl": 3},
           stored={"status.progress.totl": ABSENT, "status.progress.total": 2},
           warnings=(unknown_field("status.progress.totl"),)),
    status("si-status-valid", SI, INSTANCE_STATUS, {}, stored={"status.nodes[0].instanceId": "sandbox-1"}),
    status("si-status-phase-sleeping", SI, INSTANCE_STATUS, {"status.phase": "sleeping"},
           unsupported("status.phase", "sleeping", "pending", "running", "stopped"), NOT_CHECKED),
    status("asm-status-condition-yes", A, {"nodeCount": 3, "conditions": [{"type": "Ready", "status": "Yes"}]}, {},
           unsupported("status.conditions[0].status", "Yes", "True", "False", "Unknown"), NOT_CHECKED),
]


# ---- sending them ----------------------------------------------------------------------------

@dataclass
class Answer:
    code: int
    body: Body
    warnings: list[str]


def _answer(call: Callable[[], tuple[Any, int, Any]]) -> Answer:
    try:
        data, code, headers = call()
    except ApiException as error:
        return Answer(error.status, json.loads(error.body), [])
    return Answer(code, data, list(headers.getlist("Warning")) if headers is not None else [])


@pytest.fixture
def custom(kubeconfig: Path) -> k8s.CustomObjectsApi:
    return k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))


def _read(custom: k8s.CustomObjectsApi, namespace: str, plural: str, name: str) -> Body | None:
    try:
        found: Body = custom.get_namespaced_custom_object(r.GROUP, r.VERSION, namespace, plural, name)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


@pytest.mark.parametrize("case", CASES)
def test_the_api_server_gives_kube_apiserver_verdict(case: Case, custom: k8s.CustomObjectsApi, namespace: str) -> None:
    plural, name = PLURALS[case.kind], case.body["metadata"]["name"]
    options = {"field_validation": case.field_validation} if case.field_validation else {}
    before: Body | None = None
    if case.op == "create":
        answer = _answer(lambda: custom.create_namespaced_custom_object_with_http_info(
            r.GROUP, r.VERSION, namespace, plural, case.body, **options))
    else:
        assert case.before is not None
        before = custom.create_namespaced_custom_object(r.GROUP, r.VERSION, namespace, plural, case.before)
        body = copy.deepcopy(case.body)
        body["metadata"]["resourceVersion"] = before["metadata"]["resourceVersion"]
        put = (custom.replace_namespaced_custom_object_status_with_http_info if case.op == "status"
               else custom.replace_namespaced_custom_object_with_http_info)
        answer = _answer(lambda: put(r.GROUP, r.VERSION, namespace, plural, name, body, **options))
    stored = _read(custom, namespace, plural, name)

    if case.causes is None and case.bad_request is None:
        assert answer.code in (200, 201), f"refused: {answer.body}"
        assert stored is not None
        assert answer.warnings == list(case.warnings)
        for path, value in case.stored.items():
            found = lookup(stored, path)
            assert found is ABSENT if value is ABSENT else found == value, (path, found)
        return

    # Refused: nothing stored, or the stored object unchanged.
    assert stored == before
    if case.bad_request is not None:
        assert (answer.code, answer.body.get("reason"), answer.body.get("message")) == (
            400, "BadRequest", case.bad_request)
        assert "causes" not in (answer.body.get("details") or {})
        return
    assert case.causes is not None
    assert (answer.code, answer.body.get("reason")) == (422, "Invalid"), answer.body
    causes = (answer.body.get("details") or {}).get("causes") or []
    assert {Cause(c.get("reason", ""), c.get("field", ""), c.get("message", "")) for c in causes} == set(case.causes)
    assert len(causes) == len(case.causes), "a cause was reported twice"
    head = f'{case.kind}.dtk.io "{name}" is invalid: '
    if len(case.causes) == 1:
        assert answer.body.get("message") == head + str(next(iter(case.causes)))
    else:
        message = answer.body.get("message", "")
        assert message.startswith(head + "[") and message.endswith("]"), message
        inner = message[len(head) + 1:-1]
        assert all(str(c) in inner for c in case.causes), message
        assert len(inner) == len(", ".join(str(c) for c in case.causes)), message

