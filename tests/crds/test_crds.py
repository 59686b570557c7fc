"""The CRDs in crds/, checked without a cluster.

What a real kube-apiserver would check and this file re-checks on its own:
- structural schemas (a type everywhere, no properties next to additionalProperties, no
  unknown schema keywords, metadata left alone, list-map keys required and scalar, ...);
- CEL rules: their field references resolve, every list, map and string they touch is
  bounded, and a coarse cost estimate stays far below the server's budget;
- objects: judged by the sandbox emulator's admission (the same pruning, schema, list-map and
  CEL checks, in kube-apiserver's words), so that the SPEC's invalid cases are really refused
  here, not just grepped for.
What it cannot prove: that the real CEL cost estimator agrees with the estimate below, and
that the server's CEL and regex engines read the rules exactly as cel-rust and Python's re do.
"""

from __future__ import annotations

import copy
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from dtk_api import conditions, resources, task_status, task_wire
from dtk_sandbox.kubeapi.admission import FieldValidation, SchemaAdmission, WriteOptions, openapi_rules
from dtk_sandbox.kubeapi.crds import specs_from_crd
from dtk_sandbox.kubeapi.errors import ApiError

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("Assembly", "ServiceInstance", "Task", "Target")
FILES = {"Assembly": "assembly.yaml", "ServiceInstance": "serviceinstance.yaml", "Task": "task.yaml",
         "Target": "target.yaml"}
PLURALS = {
    "Assembly": resources.ASSEMBLY_PLURAL,
    "ServiceInstance": resources.INSTANCE_PLURAL,
    "Task": resources.TASK_PLURAL,
    "Target": resources.TARGET_PLURAL,
}
SHORT_NAMES = {"Assembly": ["asm"], "ServiceInstance": ["si"], "Task": ["dtktask"], "Target": ["dtktarget"]}
PRINTER_COLUMNS = {
    "Assembly": ["MODULE", "TEMPLATE", "NODES", "DESCRIPTION", "AGE"],
    "ServiceInstance": ["STATUS", "LAST RUN", "ASSEMBLY TEMPLATE", "TARGET", "NODES", "AGE"],
    "Task": ["INSTANCE", "WORKFLOW", "STATE", "COMPLETED", "TOTAL", "AGE"],
    "Target": ["PROVIDER", "REGION", "DEFAULT", "READY", "INSTANCES", "AGE"],
}
# The API server's CEL budgets (k8s.io/apiextensions-apiserver, validation.go).
STATIC_ESTIMATED_COST_LIMIT = 10_000_000  # per rule, times the rule's cardinality
STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000  # all rules of a CRD together
COST_SAFETY_FACTOR = 10  # the estimate below is coarse: demand 10x headroom

Schema = dict[str, Any]


def load_crd(kind: str) -> dict[str, Any]:
    with open(ROOT / "crds" / FILES[kind]) as stream:
        docs = [doc for doc in yaml.safe_load_all(stream) if doc]
    assert len(docs) == 1, f"{FILES[kind]} must hold exactly one CRD"
    return typing.cast(dict[str, Any], docs[0])


def load_sample(kind: str) -> dict[str, Any]:
    with open(ROOT / "crds" / "samples" / FILES[kind]) as stream:
        docs = [doc for doc in yaml.safe_load_all(stream) if doc]
    assert len(docs) == 1, f"samples/{FILES[kind]} must hold exactly one object"
    return typing.cast(dict[str, Any], docs[0])


def root_schema(kind: str) -> Schema:
    (version,) = load_crd(kind)["spec"]["versions"]
    return typing.cast(Schema, version["schema"]["openAPIV3Schema"])


def sub_schema(schema: Schema, *path: str) -> Schema:
    """`properties` / `items` steps by name: sub_schema(root, "spec", "nodes", "[]", "name")."""
    for step in path:
        schema = schema["items"] if step == "[]" else schema["properties"][step]
    return schema


# ---- walking schemas ---------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    path: str
    schema: Schema
    ancestors: tuple[Schema, ...]


def walk(schema: Schema, path: str = "", ancestors: tuple[Schema, ...] = ()) -> Iterator[Node]:
    yield Node(path, schema, ancestors)
    below = (*ancestors, schema)
    for name, prop in schema.get("properties", {}).items():
        yield from walk(prop, f"{path}.{name}", below)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}.*", below)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]", below)


def all_nodes(kind: str) -> list[Node]:
    """Every schema node except root metadata, which the server owns."""
    return [node for node in walk(root_schema(kind)) if not node.path.startswith(".metadata")]


# ---- objects are judged by the emulator's admission, worded as kube-apiserver ---------------

TYPES: dict[str, Callable[[object], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


SPECS = {kind: specs_from_crd(load_crd(kind))[0] for kind in KINDS}


def validate(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    """The causes a kube-apiserver would give for refusing `obj` (an update of `old`); [] if it
    accepts. Unknown fields count (Strict field validation): the server would prune them."""
    try:
        SchemaAdmission().admit(SPECS[obj["kind"]], obj, old, WriteOptions(field_validation=FieldValidation.STRICT))
    except ApiError as refusal:
        causes = refusal.details.get("causes")
        return [f"{cause['field']}: {cause['message']}" for cause in causes] if causes else [refusal.message]
    return []


# ---- a small parser for the CEL subset the rules use (static checks below) ----------------

TOKEN = re.compile(r"\s*(?:(\d+)|'([^']*)'|\"([^\"]*)\"|([A-Za-z_]\w*)|(==|!=|<=|>=|&&|\|\||[-+!<>?:().,]))")
MACROS = ("all", "exists", "exists_one", "filter", "map")


class CelError(Exception):
    """A rule that does not compile or does not evaluate: the server refuses it too."""


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        if not match:
            raise CelError(f"cannot read {text[position:]!r}")
        number, single, double, ident, op = match.groups()
        if number is not None:
            tokens.append(("lit", int(number)))
        elif single is not None or double is not None:
            tokens.append(("lit", single if single is not None else double))
        elif ident in ("true", "false", "null"):
            tokens.append(("lit", {"true": True, "false": False, "null": None}[ident]))
        elif ident is not None:
            tokens.append(("id", ident))
        else:
            tokens.append(("op", op))
        position = match.end()
    return [*tokens, ("end", None)]


class Parser:
    """Precedence climbing over: ?: || && == != < <= > >= + - ! and member/macro calls."""

    LEVELS = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"))

    def __init__(self, text: str) -> None:
        self.tokens, self.at = tokenize(text), 0

    def parse(self) -> tuple[Any, ...]:
        tree = self.conditional()
        self.expect("end")
        return tree

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.at]

    def take(self) -> tuple[str, Any]:
        self.at += 1
        return self.tokens[self.at - 1]

    def expect(self, kind: str, value: Any = None) -> tuple[str, Any]:
        token = self.take()
        if token[0] != kind or (value is not None and token[1] != value):
            raise CelError(f"expected {value or kind}, got {token[1]!r}")
        return token

    def conditional(self) -> tuple[Any, ...]:
        test = self.binary(0)
        if self.peek() != ("op", "?"):
            return test
        self.take()
        then = self.conditional()
        self.expect("op", ":")
        return ("cond", test, then, self.conditional())

    def binary(self, level: int) -> tuple[Any, ...]:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.LEVELS[level]:
            left = ("bin", self.take()[1], left, self.binary(level + 1))
        return left

    def unary(self) -> tuple[Any, ...]:
        if self.peek() in (("op", "!"), ("op", "-")):
            return ("un", self.take()[1], self.unary())
        tree = self.primary()
        while self.peek() == ("op", "."):
            self.take()
            name = self.expect("id")[1]
            tree = ("mcall", tree, name, self.args()) if self.peek() == ("op", "(") else ("sel", tree, name)
        return tree

    def primary(self) -> tuple[Any, ...]:
        kind, value = self.take()
        if kind == "lit":
            return ("lit", value)
        if kind == "id":
            return ("call", value, self.args()) if self.peek() == ("op", "(") else ("id", value)
        if (kind, value) == ("op", "("):
            tree = self.conditional()
            self.expect("op", ")")
            return tree
        raise CelError(f"unexpected {value!r}")

    def args(self) -> list[tuple[Any, ...]]:
        self.expect("op", "(")
        found = []
        while self.peek() != ("op", ")"):
            found.append(self.conditional())
            if self.peek() == ("op", ","):
                self.take()
        self.take()
        return found


def uses_old_self(tree: tuple[Any, ...]) -> bool:
    return (
        tree == ("id", "oldSelf")
        or any(isinstance(part, tuple) and uses_old_self(part) for part in tree[1:])
        or any(isinstance(part, list) and any(uses_old_self(p) for p in part) for part in tree[1:])
    )


# ---- static checks of CEL rules: references, bounds, cost --------------------------------


def resolve(tree: tuple[Any, ...], scope: dict[str, Schema]) -> Schema | None:
    """The schema of what an expression denotes, when it is a field; None for computed values."""
    if tree[0] == "id":
        if tree[1] not in scope:
            raise CelError(f"undeclared reference {tree[1]}")
        return scope[tree[1]]
    if tree[0] == "sel":
        parent = resolve(tree[1], scope)
        if parent is None:
            return None
        found = parent.get("properties", {}).get(tree[2])
        if found is None and isinstance(parent.get("additionalProperties"), dict):
            found = parent["additionalProperties"]
        if found is None:
            raise CelError(f"undefined field {tree[2]!r}")
        return typing.cast(Schema, found)
    return None


def touched(tree: tuple[Any, ...], scope: dict[str, Schema]) -> Iterator[tuple[str, Schema]]:
    """Every field the expression reads, as ("value", schema) or ("iterated", list schema).

    Selecting `self.a.b` reads b, not self and a; `has(self.a)` tests presence and reads
    nothing; a comprehension iterates its list and binds its variable to the list's items.
    """
    tag = tree[0]
    if tag in ("id", "sel"):
        found = resolve(tree, scope)
        if found is not None:
            yield "value", found
        return
    if tag == "call":
        resolve(tree[2][0], scope)  # still has to name a declared field
        return
    if tag == "mcall" and tree[2] in MACROS:
        items = resolve(tree[1], scope)
        if items is None:
            yield from touched(tree[1], scope)
            return
        yield "iterated", items
        yield from touched(tree[3][1], {**scope, tree[3][0][1]: items["items"]})
        return
    for part in tree[1:]:
        if isinstance(part, tuple):
            yield from touched(part, scope)


def elements(schema: Schema) -> float:
    """How many values a value of this schema can hold (cost of comparing or iterating it)."""
    kind = schema["type"]
    if kind == "string":
        return 1 + math.ceil(schema["maxLength"] / 10) if "maxLength" in schema else math.inf
    if kind == "array":
        return float(schema.get("maxItems", math.inf)) * elements(schema["items"])
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return float(schema.get("maxProperties", math.inf)) * elements(schema["additionalProperties"])
    if kind == "object":
        return 1 + sum(elements(prop) for prop in schema.get("properties", {}).values())
    return 1


def cost(tree: tuple[Any, ...], scope: dict[str, Schema]) -> float:
    """A coarse per-call cost in the spirit of CEL's estimator (iterations x body, sizes)."""
    tag = tree[0]
    if tag in ("lit", "id"):
        return 1
    if tag == "sel":
        return 1 + cost(tree[1], scope)
    if tag == "call":
        return 1 + cost(tree[2][0][1], scope)
    if tag == "mcall" and tree[2] in MACROS:
        items = resolve(tree[1], scope)
        if items is None:
            return math.inf
        inner = {**scope, tree[3][0][1]: items["items"]}
        return cost(tree[1], scope) + float(items.get("maxItems", math.inf)) * (1 + cost(tree[3][1], inner))
    if tag == "bin" and tree[1] in ("==", "!="):
        sizes = [elements(s) for s in (resolve(tree[2], scope), resolve(tree[3], scope)) if s]
        return cost(tree[2], scope) + cost(tree[3], scope) + (min(sizes) if sizes else 1)
    return 1 + sum(cost(p, scope) for p in tree[1:] if isinstance(p, tuple))


def cardinality(node: Node) -> float:
    """How often a rule at this node runs for one object: product of the bounds above it."""
    product: float = 1
    for ancestor in node.ancestors:
        if ancestor["type"] == "array":
            product *= ancestor.get("maxItems", math.inf)
        elif isinstance(ancestor.get("additionalProperties"), dict):
            product *= ancestor.get("maxProperties", math.inf)
    return product


def rules(kind: str) -> list[tuple[Node, dict[str, str]]]:
    return [(node, rule) for node in all_nodes(kind) for rule in node.schema.get("x-kubernetes-validations", [])]


# ==== the CRD objects ======================================================================


@pytest.mark.parametrize("kind", KINDS)
def test_crd_names_and_version(kind: str) -> None:
    crd = load_crd(kind)
    spec, plural = crd["spec"], PLURALS[kind]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{plural}.{resources.GROUP}"
    assert spec["group"] == resources.GROUP
    assert spec["scope"] == ("Cluster" if kind == "Target" else "Namespaced")  # admins own Targets
    assert spec["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "shortNames": SHORT_NAMES[kind],
        "categories": [resources.CATEGORY],
    }
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == (resources.VERSION, True, True)
    assert version["subresources"] == {"status": {}}


def column_target(schema: Schema, json_path: str) -> Schema | None:
    """The schema a printer column's JSONPath points at (None: metadata, owned by the server)."""
    steps = re.findall(r"\.(\w+)|\[\?\(@\.(\w+)==\"[^\"]*\"\)\]", json_path)
    if steps[0][0] == "metadata":
        return None
    for field, filter_field in steps:
        if filter_field:
            schema = schema["items"]
            assert filter_field in schema["properties"], json_path
        else:
            schema = schema["properties"][field]
    return schema


@pytest.mark.parametrize("kind", KINDS)
def test_printer_columns_point_at_declared_fields(kind: str) -> None:
    (version,) = load_crd(kind)["spec"]["versions"]
    columns = [c for c in version["additionalPrinterColumns"] if c.get("priority", 0) == 0]
    assert [c["name"].upper() for c in columns] == PRINTER_COLUMNS[kind]
    for column in version["additionalPrinterColumns"]:
        target = column_target(root_schema(kind), column["jsonPath"])
        if target is None:  # metadata: the age, or the default Target's annotation (as StorageClass shows it)
            assert (column["jsonPath"], column["type"]) in ((".metadata.creationTimestamp", "date"), (
                f".metadata.annotations.{resources.DEFAULT_TARGET_ANNOTATION.replace('.', chr(92) + '.')}", "string"))
        else:
            assert target["type"] == column["type"], column["name"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_kubernetes_client_models_read_the_crd(kind: str) -> None:
    """A second opinion on names and shapes: the API's own models, as the Python client ships them."""
    client = pytest.importorskip("kubernetes.client")

    class Response:
        data = json.dumps(load_crd(kind))

    crd = client.ApiClient().deserialize(Response(), "V1CustomResourceDefinition")  # raises on a missing field
    assert crd.spec.versions[0].schema.open_apiv3_schema.type == "object"
    assert set(client.V1JSONSchemaProps.attribute_map.values()) >= ALLOWED_KEYWORDS
    assert {"rule", "message"} <= set(client.V1ValidationRule.attribute_map.values())


# ==== structural schemas ===================================================================

ALLOWED_KEYWORDS = {
    "type",
    "description",
    "properties",
    "additionalProperties",
    "items",
    "required",
    "enum",
    "default",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "maxProperties",
    "format",
    "nullable",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-validations",
}
FORMATS = {"date-time", "int32", "int64"}
# Where unknown fields are meant to be kept. None: every field the operator or a user writes
# is declared; an unknown field is a typo or a missing declaration.
PRESERVE_UNKNOWN_FIELDS: set[tuple[str, str]] = set()


@pytest.mark.parametrize("kind", KINDS)
def test_root_is_structural(kind: str) -> None:
    schema = root_schema(kind)
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert schema["required"] == ["spec"]
    # metadata may only be constrained in name and generateName (a real server refuses the CRD
    # otherwise); an instance's name is bounded because it becomes a label value on its Tasks.
    metadata = schema["properties"]["metadata"]
    assert metadata["type"] == "object" and set(metadata.get("properties", {})) <= {"name", "generateName"}
    names = metadata.get("properties", {}).get("name", {})
    assert set(names) <= {"type", "description", "maxLength", "pattern"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_level_is_typed_described_and_uses_known_keywords(kind: str) -> None:
    for node in all_nodes(kind):
        schema, where = node.schema, f"{kind}{node.path or ' root'}"
        assert set(schema) <= ALLOWED_KEYWORDS, f"{where}: {set(schema) - ALLOWED_KEYWORDS}"
        assert schema.get("type") in TYPES, f"{where}: no type"
        assert schema.get("description", "").strip(), f"{where}: no description"
        assert schema.get("format", "date-time") in FORMATS, f"{where}: format"
        assert (kind, node.path) not in PRESERVE_UNKNOWN_FIELDS


@pytest.mark.parametrize("kind", KINDS)
def test_objects_and_arrays_are_structural(kind: str) -> None:
    for node in all_nodes(kind):
        schema, where = node.schema, f"{kind}{node.path}"
        if schema["type"] == "array":
            assert isinstance(schema.get("items"), dict), f"{where}: array without one items schema"
        else:
            assert "items" not in schema, where
        if schema["type"] != "object":
            assert "properties" not in schema and "additionalProperties" not in schema, where
            continue
        extra = schema.get("additionalProperties")
        assert not ("properties" in schema and extra is not None), f"{where}: properties and additionalProperties"
        assert extra is None or isinstance(extra, dict), f"{where}: additionalProperties must be a schema"
        # An object with neither would have everything under it pruned.
        assert "properties" in schema or extra is not None, f"{where}: empty object"
        assert set(schema.get("required", [])) <= set(schema.get("properties", {})), where


@pytest.mark.parametrize("kind", KINDS)
def test_list_types_are_well_formed(kind: str) -> None:
    for node in all_nodes(kind):
        schema, where = node.schema, f"{kind}{node.path}"
        list_type = schema.get("x-kubernetes-list-type")
        if list_type is None:
            assert "x-kubernetes-list-map-keys" not in schema, where
            continue
        assert schema["type"] == "array", where
        items = schema["items"]
        if list_type == "set":
            assert items["type"] in ("string", "integer", "number", "boolean"), where
        else:
            assert list_type == "map", where
            assert items["type"] == "object" and schema["x-kubernetes-list-map-keys"], where
            for key in schema["x-kubernetes-list-map-keys"]:
                assert items["properties"][key]["type"] in ("string", "integer"), where
                assert key in items.get("required", []) or "default" in items["properties"][key], where


@pytest.mark.parametrize("kind", KINDS)
def test_enums_and_defaults_are_valid_values(kind: str) -> None:
    for node in all_nodes(kind):
        schema = node.schema
        for value in schema.get("enum", []):
            assert TYPES[schema["type"]](value), f"{kind}{node.path}: enum value {value!r}"
        if "default" in schema:
            assert openapi_rules.validate(schema["default"], schema, "default") == [], f"{kind}{node.path}: default"
            assert not node.path.startswith(".status"), "status is the operator's, not defaulted"


SPEC_DEFAULTS = {
    ("Assembly", ("spec", "nodeGroups", "[]", "cardinality")): 1,
    ("ServiceInstance", ("spec", "staged")): False,
    ("ServiceInstance", ("spec", "power")): "running",
    ("ServiceInstance", ("spec", "deletionPolicy")): "Delete",
    ("Task", ("spec", "cancel")): False,
    ("Task", ("spec", "timeoutSeconds")): resources.DEFAULT_TASK_TIMEOUT_SECONDS,
    ("Target", ("spec", "ec2", "commandTransport")): "ssm",
}


def test_defaults_are_the_spec_defaults_and_no_others() -> None:
    found = {
        (kind, node.path): node.schema["default"]
        for kind in KINDS
        for node in all_nodes(kind)
        if "default" in node.schema
    }
    expected = {
        (kind, "".join(step if step == "[]" else f".{step}" for step in path)): value
        for (kind, path), value in SPEC_DEFAULTS.items()
    }
    assert found == expected


@pytest.mark.parametrize("kind", KINDS)
def test_timestamps_are_date_times(kind: str) -> None:
    for node in all_nodes(kind):
        name = node.path.rsplit(".", 1)[-1]
        if name.endswith("At") or name in ("time", "lastTransitionTime"):
            assert node.schema.get("format") == "date-time", f"{kind}{node.path}"


def test_duplicate_names_are_refused_by_list_maps() -> None:
    expected = {
        ("Assembly", ".spec.components"),
        ("Assembly", ".spec.components[].actions"),
        ("Assembly", ".spec.nodes"),
        ("Assembly", ".spec.nodeGroups"),
        ("Assembly", ".spec.workflows"),
        ("ServiceInstance", ".spec.nodeGroups"),
    }
    found = {
        (kind, node.path)
        for kind in KINDS
        for node in all_nodes(kind)
        if node.schema.get("x-kubernetes-list-map-keys") == ["name"]
    }
    assert found == expected


@pytest.mark.parametrize("kind", KINDS)
def test_status_has_no_size_bounds(kind: str) -> None:
    """A bound in status makes the server refuse a whole status write; the operator bounds instead."""
    status = sub_schema(root_schema(kind), "status")
    for node in walk(status):
        bounded = {"maxLength", "maxItems", "maxProperties", "pattern", "minLength"} & set(node.schema)
        assert not bounded, f"{kind}.status{node.path}: {bounded}"


@pytest.mark.parametrize("kind", KINDS)
def test_conditions_are_metav1_conditions(kind: str) -> None:
    conditions = sub_schema(root_schema(kind), "status", "conditions")
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    item = conditions["items"]
    assert set(item["properties"]) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    assert item["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    assert item["properties"]["lastTransitionTime"]["format"] == "date-time"
    assert sub_schema(root_schema(kind), "status", "observedGeneration")["type"] == "integer"


# ==== CEL rules ============================================================================

EXPECTED_RULES = {
    ("Assembly", ".spec"): ["node and a node group cannot share a name"],
    ("Assembly", ".spec.workflows[].stages[]"): ["exactly one of components, orderedComponents or actions"],
    ("ServiceInstance", ".spec"): ["targetRef is immutable"],
    ("Task", ".spec.serviceInstanceRef"): ["serviceInstanceRef is immutable"],
    ("Task", ".spec.workflow"): ["workflow is immutable"],
    ("Target", ".spec"): ["an ec2 Target needs spec.ec2", "a local Target takes no ec2 settings"],
    ("Task", ".spec.cancel"): ["cancel cannot be undone"],
}


def test_rules_are_where_expected_with_clear_messages() -> None:
    found: dict[tuple[str, str], list[str]] = {}
    for kind in KINDS:
        for node, rule in rules(kind):
            assert set(rule) == {"rule", "message"}, f"{kind}{node.path}"
            found.setdefault((kind, node.path), []).append(" ".join(rule["message"].split()))
    assert set(found) == set(EXPECTED_RULES)
    for where, fragments in EXPECTED_RULES.items():
        for fragment, message in zip(fragments, found[where], strict=True):
            assert fragment in message, where


@pytest.mark.parametrize("kind", KINDS)
def test_rules_compile_and_name_declared_fields(kind: str) -> None:
    for node, rule in rules(kind):
        tree = Parser(rule["rule"]).parse()
        list(touched(tree, {"self": node.schema, "oldSelf": node.schema}))  # raises on a bad field


@pytest.mark.parametrize("kind", KINDS)
def test_everything_a_rule_touches_is_bounded(kind: str) -> None:
    """What TOOLCHAIN.md measured: unbounded lists and strings blow a real server's budget."""
    for node, rule in rules(kind):
        where = f"{kind}{node.path}: {rule['rule']}"
        assert cardinality(node) < math.inf, f"{where}: a list above it has no maxItems"
        tree = Parser(rule["rule"]).parse()
        for how, schema in touched(tree, {"self": node.schema, "oldSelf": node.schema}):
            if how == "iterated":
                assert "maxItems" in schema, f"{where}: iterates a list without maxItems"
            else:
                assert elements(schema) < math.inf, f"{where}: reads an unbounded field"


@pytest.mark.parametrize("kind", KINDS)
def test_rule_costs_fit_the_budget_with_headroom(kind: str) -> None:
    total = 0.0
    for node, rule in rules(kind):
        tree = Parser(rule["rule"]).parse()
        estimate = cost(tree, {"self": node.schema, "oldSelf": node.schema}) * cardinality(node)
        assert estimate * COST_SAFETY_FACTOR <= STATIC_ESTIMATED_COST_LIMIT, f"{node.path}: {estimate}"
        total += estimate
    assert total * COST_SAFETY_FACTOR <= STATIC_ESTIMATED_CRD_COST_LIMIT


@pytest.mark.parametrize("kind", KINDS)
def test_transition_rules_sit_where_old_values_correlate(kind: str) -> None:
    for node, rule in rules(kind):
        if uses_old_self(Parser(rule["rule"]).parse()):
            lists = [a for a in node.ancestors if a["type"] == "array"]
            assert all(a.get("x-kubernetes-list-type") == "map" for a in lists), node.path


def test_stage_rule_reads_each_alternative_and_each_is_non_empty() -> None:
    stage = sub_schema(root_schema("Assembly"), "spec", "workflows", "[]", "stages", "[]")
    (rule,) = stage["x-kubernetes-validations"]
    for name in ("components", "orderedComponents", "actions"):
        assert f"has(self.{name})" in rule["rule"]
        # `components: []` would otherwise count as present and do nothing.
        assert stage["properties"][name]["minItems"] == 1
        # The bounds a real server needed before it accepted this rule (TOOLCHAIN.md).
        assert "maxItems" in stage["properties"][name]
        assert "maxLength" in stage["properties"][name]["items"]
    stages = sub_schema(root_schema("Assembly"), "spec", "workflows", "[]", "stages")
    assert "maxItems" in stages and "maxItems" in sub_schema(root_schema("Assembly"), "spec", "workflows")


# ==== samples ==============================================================================


@pytest.mark.parametrize("kind", KINDS)
def test_sample_is_valid(kind: str) -> None:
    sample = load_sample(kind)
    assert sample["apiVersion"] == resources.API_VERSION and sample["kind"] == kind
    assert validate(sample) == []


def example_objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((ROOT / "examples").glob("*.y*ml")):
        with open(path) as stream:
            for doc in yaml.safe_load_all(stream):
                if isinstance(doc, dict) and doc.get("apiVersion") == resources.API_VERSION:
                    found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


@pytest.mark.parametrize(("where", "obj"), example_objects(), ids=[w for w, _ in example_objects()])
def test_examples_are_valid(where: str, obj: dict[str, Any]) -> None:
    """What the project ships for users to apply must pass a real server's validation."""
    assert validate(obj) == []


def test_sample_task_is_labelled_with_its_instance() -> None:
    task = load_sample("Task")
    assert task["metadata"]["labels"][resources.INSTANCE_LABEL] == task["spec"]["serviceInstanceRef"]["name"]


def test_the_validator_is_not_vacuous() -> None:
    sample = load_sample("ServiceInstance")
    typo = {**sample, "spec": {**sample["spec"], "stagd": True}}
    assert any('unknown field "spec.stagd"' in e for e in validate(typo))
    assert any(
        "must be of type boolean" in e for e in validate({**sample, "spec": {**sample["spec"], "staged": "no"}})
    )


# ==== the SPEC's invalid cases, refused ====================================================

Mutation = Callable[[dict[str, Any]], None]


def spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return typing.cast(dict[str, Any], obj["spec"])


def first_stage(obj: dict[str, Any]) -> dict[str, Any]:
    return typing.cast(dict[str, Any], spec_of(obj)["workflows"][0]["stages"][0])


INVALID: list[tuple[str, str, Mutation, str]] = [
    (
        "Assembly",
        "duplicate component",
        lambda o: spec_of(o)["components"].append(copy.deepcopy(spec_of(o)["components"][0])),
        "Duplicate value",
    ),
    (
        "Assembly",
        "duplicate action",
        lambda o: spec_of(o)["components"][3]["actions"].append({"name": "smoke_test", "steps": [{"run": "true"}]}),
        "Duplicate value",
    ),
    (
        "Assembly",
        "duplicate node",
        lambda o: spec_of(o)["nodes"].append({"name": "master"}),
        "Duplicate value",
    ),
    (
        "Assembly",
        "duplicate node group",
        lambda o: spec_of(o)["nodeGroups"].append({"name": "slaves", "cardinality": 1}),
        "Duplicate value",
    ),
    (
        "Assembly",
        "duplicate workflow",
        lambda o: spec_of(o)["workflows"].append(
            {"name": "create", "stages": [{"name": "x", "components": ["bigtop_base"]}]}
        ),
        "Duplicate value",
    ),
    (
        "Assembly",
        "node named like a member",
        lambda o: spec_of(o)["nodes"][0].update(name="slaves:1"),
        "should match",
    ),
    (
        "Assembly",
        "node name not a DNS label",
        lambda o: spec_of(o)["nodes"][0].update(name="Master"),
        "should match",
    ),
    (
        "Assembly",
        "node and group share a name",
        lambda o: spec_of(o)["nodes"][0].update(name="slaves"),
        "cannot share a name",
    ),
    (
        "Assembly",
        "cardinality < 0",
        lambda o: spec_of(o)["nodeGroups"][0].update(cardinality=-1),
        "greater than or equal to 0",
    ),
    (
        "Assembly",
        "component name with a dot",
        lambda o: spec_of(o)["components"][0].update(name="a.b"),
        "should match",
    ),
    (
        "Assembly",
        "step without run",
        lambda o: spec_of(o)["components"][0]["create"][0].pop("run"),
        "Required value",
    ),
    (
        "Assembly",
        "step timeout 0",
        lambda o: spec_of(o)["components"][0]["create"][0].update(timeoutSeconds=0),
        "greater than or equal to 1",
    ),
    (
        "Assembly",
        "stage with two kinds",
        lambda o: first_stage(o).update(actions=["hadoop::namenode.smoke_test"]),
        "exactly one of components, orderedComponents or actions",
    ),
    (
        "Assembly",
        "stage with three kinds",
        lambda o: first_stage(o).update(actions=["x.y"], orderedComponents=["bigtop_base"]),
        "exactly one of",
    ),
    ("Assembly", "stage with none", lambda o: first_stage(o).pop("components"), "exactly one of"),
    (
        "Assembly",
        "stage with an empty list",
        lambda o: first_stage(o).update(components=[]),
        "should have at least 1 items",
    ),
    (
        "Assembly",
        "workflow name not a label value",
        lambda o: spec_of(o)["workflows"][0].update(name="con verge"),
        "should match",
    ),
    ("ServiceInstance", "power enum", lambda o: spec_of(o).update(power="paused"), "Unsupported value"),
    (
        "ServiceInstance",
        "deletionPolicy enum",
        lambda o: spec_of(o).update(deletionPolicy="delete"),
        "Unsupported value",
    ),
    (
        "ServiceInstance",
        "an inline target (admins' Targets hold them now)",
        lambda o: spec_of(o).update(target={"provider": "ec2", "ec2": {"region": "us-east-1",
                                                                        "roleArn": "arn:aws:iam::9:role/x"}}),
        'unknown field "spec.target"',
    ),
    ("ServiceInstance", "targetRef without a name", lambda o: spec_of(o).update(targetRef={}), "Required value"),
    ("Target", "provider enum", lambda o: spec_of(o).update(provider="gcp"), "Unsupported value"),
    ("Target", "transport enum", lambda o: spec_of(o)["ec2"].update(commandTransport="ssh"), "Unsupported value"),
    ("Target", "ec2 without its block", lambda o: spec_of(o).pop("ec2"), "an ec2 Target needs spec.ec2"),
    (
        "Target",
        "local with credentials",
        lambda o: (spec_of(o).pop("ec2"), spec_of(o).update(provider="local")),
        "a local Target takes no ec2 settings and no credentials",
    ),
    (
        "Target",
        "a selector operator Kubernetes has not",
        lambda o: spec_of(o)["allowedNamespaces"]["selector"].update(
            matchExpressions=[{"key": "tier", "operator": "Near"}]),
        "Unsupported value",
    ),
    ("ServiceInstance", "no assemblyRef", lambda o: spec_of(o).pop("assemblyRef"), "Required value"),
    (
        "ServiceInstance",
        "cardinality < 0",
        lambda o: spec_of(o)["nodeGroups"][0].update(cardinality=-1),
        "greater than or equal to 0",
    ),
    (
        "ServiceInstance",
        "duplicate group override",
        lambda o: spec_of(o)["nodeGroups"].append({"name": "slaves", "cardinality": 1}),
        "Duplicate value",
    ),
    ("Task", "no workflow", lambda o: spec_of(o).pop("workflow"), "Required value"),
    ("Task", "no instance", lambda o: spec_of(o).pop("serviceInstanceRef"), "Required value"),
    ("Task", "param with a space", lambda o: spec_of(o)["params"].update(name="mar 01"), "should match"),
    (
        "Task",
        "param with shell syntax",
        lambda o: spec_of(o)["params"].update(name="$(reboot)"),
        "should match",
    ),
    ("Task", "param with a quote", lambda o: spec_of(o)["params"].update(name="a'b"), "should match"),
    ("Task", "timeout 0", lambda o: spec_of(o).update(timeoutSeconds=0), "greater than or equal to 1"),
    ("Task", "state enum", lambda o: o.update(status={"state": "running"}), "Unsupported value"),
    (
        "Task",
        "step kind enum",
        lambda o: o.update(status={"steps": [{"index": "", "kind": "node", "name": "x"}]}),
        "Unsupported value",
    ),
]


@pytest.mark.parametrize(("kind", "case", "mutate", "expected"), INVALID, ids=[c[1] for c in INVALID])
def test_invalid_case_is_refused(kind: str, case: str, mutate: Mutation, expected: str) -> None:
    obj = load_sample(kind)
    mutate(obj)
    errors = validate(obj)
    assert any(expected in error for error in errors), errors


UPDATES: list[tuple[str, Mutation, str]] = [
    ("un-cancel", lambda o: spec_of(o).update(cancel=False), "cancel cannot be undone"),
    ("change workflow", lambda o: spec_of(o).update(workflow="create"), "workflow is immutable"),
    (
        "move to another instance",
        lambda o: spec_of(o).update(serviceInstanceRef={"name": "other"}),
        "serviceInstanceRef is immutable",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), UPDATES, ids=[c[0] for c in UPDATES])
def test_task_update_is_refused(case: str, mutate: Mutation, expected: str) -> None:
    stored = load_sample("Task")
    spec_of(stored)["cancel"] = True
    updated = copy.deepcopy(stored)
    mutate(updated)
    assert validate(stored, old=stored) == []
    assert any(expected in e for e in validate(updated, old=stored))


def test_task_can_be_cancelled_and_its_message_edited() -> None:
    stored = load_sample("Task")
    updated = copy.deepcopy(stored)
    spec_of(updated).update(cancel=True, message="not needed after all")
    assert validate(updated, old=stored) == []


def test_ec2_rule_lets_local_targets_through() -> None:
    obj = load_sample("Target")
    obj["spec"] = {"provider": "local", "allowedNamespaces": {}}
    assert validate(obj) == []


def test_target_ref_can_be_given_once_and_never_changed_or_dropped() -> None:
    unnamed = load_sample("ServiceInstance")
    spec_of(unnamed).pop("targetRef")
    named = copy.deepcopy(unnamed)
    spec_of(named)["targetRef"] = {"name": "vpc-us-east-1"}
    assert validate(named, old=unnamed) == []  # naming the Target it was given is fine
    moved = copy.deepcopy(named)
    spec_of(moved)["targetRef"] = {"name": "vpc-eu-west-1"}
    assert any("targetRef is immutable" in problem for problem in validate(moved, old=named))
    assert any("targetRef is immutable" in problem for problem in validate(unnamed, old=named))


# ==== the Task status wire format (operator/dtk_api/task_wire.py) == =======================

LITERAL_ENUMS = {
    ("state",): task_status.TaskState,
    ("steps", "[]", "kind"): task_status.StepKind,
    ("steps", "[]", "status"): task_status.StepStatus,
    ("steps", "[]", "errors", "[]", "type"): task_status.ErrorType,
    ("messages", "[]", "type"): task_status.MessageType,
}
PRIMITIVES = {str: "string", int: "integer", bool: "boolean"}


def required_keys(typed_dict: type) -> set[str]:
    """TypedDict.__required_keys__ is wrong under `from __future__ import annotations` on 3.11."""
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    total = typed_dict.__total__  # type: ignore[attr-defined]
    return {
        key
        for key, hint in hints.items()
        if typing.get_origin(hint) is typing.Required or (total and typing.get_origin(hint) is not typing.NotRequired)
    }


def wire_mismatches(hint: Any, schema: Schema, path: str) -> Iterator[str]:
    """Where the schema would prune, refuse or mistype what the operator writes."""
    if typing.get_origin(hint) in (typing.NotRequired, typing.Required):
        hint = typing.get_args(hint)[0]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if not schema.get("nullable"):
            yield f"{path}: may be null on the wire but is not nullable"
        (hint,) = args
    if typing.is_typeddict(hint):
        yield from _typeddict_mismatches(hint, schema, path)
    elif typing.get_origin(hint) is list:
        if schema.get("type") != "array":
            yield f"{path}: a list on the wire, {schema.get('type')} in the schema"
        else:
            yield from wire_mismatches(typing.get_args(hint)[0], schema["items"], f"{path}[]")
    elif typing.get_origin(hint) is dict:
        if schema.get("type") != "object" or not schema.get("properties"):
            yield f"{path}: an object on the wire with no declared properties"
    elif PRIMITIVES.get(hint) != schema.get("type"):
        yield f"{path}: {hint} on the wire, {schema.get('type')} in the schema"


def _typeddict_mismatches(hint: Any, schema: Schema, path: str) -> Iterator[str]:
    if schema.get("type") != "object":
        yield f"{path}: an object on the wire, {schema.get('type')} in the schema"
        return
    hints = typing.get_type_hints(hint, include_extras=True)
    declared = schema.get("properties", {})
    for key in sorted(set(hints) - set(declared)):
        yield f"{path}.{key}: written by the operator, not declared (the API server prunes it)"
    for key in sorted(set(declared) - set(hints)):
        yield f"{path}.{key}: declared, but not part of {hint.__name__}"
    for key in sorted(set(schema.get("required", [])) - required_keys(hint)):
        yield f"{path}.{key}: required by the schema, optional on the wire"
    for key in sorted(set(hints) & set(declared)):
        yield from wire_mismatches(hints[key], declared[key], f"{path}.{key}")


def test_task_status_declares_exactly_the_wire_format() -> None:
    status = sub_schema(root_schema("Task"), "status")
    assert list(wire_mismatches(task_wire.RawTaskStatus, status, "status")) == []


@pytest.mark.parametrize("path", list(LITERAL_ENUMS), ids=".".join)
def test_task_status_enums_match_the_operator_literals(path: tuple[str, ...]) -> None:
    schema = sub_schema(root_schema("Task"), "status", *path)
    assert sorted(schema["enum"]) == sorted(typing.get_args(LITERAL_ENUMS[path]))


@pytest.mark.parametrize("kind", KINDS)
def test_conditions_declare_exactly_what_the_operator_writes(kind: str) -> None:
    item = sub_schema(root_schema(kind), "status", "conditions", "[]")
    assert list(wire_mismatches(conditions.RawCondition, item, "condition")) == []
    assert sorted(item["properties"]["status"]["enum"]) == sorted(typing.get_args(conditions.ConditionStatus))


def test_instance_last_run_uses_the_task_states() -> None:
    last_run = sub_schema(root_schema("ServiceInstance"), "status", "lastRun", "state")
    assert sorted(last_run["enum"]) == sorted(typing.get_args(task_status.TaskState))


def test_the_wire_check_is_not_vacuous() -> None:
    status = copy.deepcopy(sub_schema(root_schema("Task"), "status"))
    # The 422 a real server gave: returnCode required, while a timed-out step's result has none.
    status["properties"]["steps"]["items"]["properties"]["results"]["items"]["required"].append("returnCode")
    del status["properties"]["planHash"]
    problems = list(wire_mismatches(task_wire.RawTaskStatus, status, "status"))
    assert any("returnCode: required by the schema, optional on the wire" in p for p in problems)
    assert any("planHash: written by the operator" in p for p in problems)


def busy_task() -> task_status.TaskStatus:
    """A Task using every field of the wire format, as the operator's own code writes it."""
    at = datetime(2026, 11, 22, 10, 41, 33, 123000, tzinfo=UTC)
    done = task_status.CommandResult(run="echo hi", return_code=0, stdout="hi\n")
    killed = task_status.CommandResult(run="sleep 99", return_code=None, stderr="x" * 4096, truncated=True)
    steps = (
        task_status.Step(index="", kind="task", name="assembly_converge", status="failed", started_at=at),
        task_status.Step(
            index="1",
            kind="stage",
            name="create_nodes_stage",
            status="succeeded",
            started_at=at,
            ended_at=at,
            operation="CreateNodes",
            nodes=("master",),
        ),
        task_status.Step(
            index="1.1",
            kind="create_node",
            name="create_node",
            node="master",
            status="succeeded",
            started_at=at,
            ended_at=at,
        ),
        task_status.Step(
            index="2",
            kind="stage",
            name="smoke",
            status="failed",
            components=("master/bigtop_base",),
            action="master/hadoop::namenode.smoke_test",
        ),
        task_status.Step(
            index="2.1",
            kind="action",
            name="action",
            node="master",
            status="failed",
            results=(done, killed),
            errors=(task_status.StepError("timed out", "user"),),
        ),
        task_status.Step(index="3", kind="stage", name="later"),
    )
    return task_status.TaskStatus(
        state="failed",
        message="step 2.1 failed",
        started_at=at,
        ended_at=at,
        updated_at=at,
        steps=steps,
        messages=(
            task_status.Message("notification", at, "started"),
            task_status.Message("error", at, "boom", name="RuntimeError", stacktrace="Traceback"),
        ),
        failure=task_status.Failure("2.1", "master", "timed out", return_code=1, stderr="tail"),
        plan_hash="abc123",
    )


@pytest.mark.parametrize("task", [task_status.TaskStatus(), busy_task()], ids=["fresh", "busy"])
def test_status_written_by_the_operator_validates(task: task_status.TaskStatus) -> None:
    raw: dict[str, Any] = dict(task_wire.to_status(task))
    raw["observedGeneration"] = 1
    raw["conditions"] = [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Failed",
            "message": "step 2.1 failed",
            "lastTransitionTime": "2026-11-22T10:41:33.123Z",
            "observedGeneration": 1,
        }
    ]
    task_object = {**load_sample("Task"), "status": raw}
    assert validate(task_object) == []


def test_instance_names_fit_a_label_value() -> None:
    """The instance's name labels its Tasks: a longer one would have every Task refused."""
    sample = load_sample("ServiceInstance")
    long_name = {**sample, "metadata": {**sample["metadata"], "name": "s" * 64}}
    assert validate(long_name)[0] == "metadata.name: Too long: may not be longer than 63"
    assert validate({**sample, "metadata": {**sample["metadata"], "name": "s" * 63}}) == []


# Shards (SPEC 11): their rows and records have exactly the shape of their owner's.

def _crd_file(name: str) -> Schema:
    with open(ROOT / "crds" / name) as stream:
        (version,) = yaml.safe_load(stream)["spec"]["versions"]
    return typing.cast(Schema, version["schema"]["openAPIV3Schema"])


def test_a_task_shard_row_has_the_schema_of_a_task_row() -> None:
    shard = _crd_file("taskshard.yaml")
    assert shard["properties"]["steps"]["items"] == sub_schema(root_schema("Task"), "status", "steps")["items"]
    assert sub_schema(root_schema("Task"), "status", "shards")["type"] == "integer"


def test_a_node_shard_record_has_the_schema_of_an_instance_node_record() -> None:
    shard = _crd_file("nodeshard.yaml")
    instance_nodes = sub_schema(root_schema("ServiceInstance"), "status", "nodes")
    assert shard["properties"]["nodes"]["items"] == instance_nodes["items"]
    assert sub_schema(root_schema("ServiceInstance"), "status", "nodeShards")["type"] == "integer"
