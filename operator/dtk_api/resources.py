"""Every name the operator, the plugin and the CRDs agree on, written once."""

from __future__ import annotations

import hashlib
from typing import Final

GROUP: Final = "dtk.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
CATEGORY: Final = "dtk"

ASSEMBLY_KIND: Final = "Assembly"
ASSEMBLY_PLURAL: Final = "assemblies"
INSTANCE_KIND: Final = "ServiceInstance"
INSTANCE_PLURAL: Final = "serviceinstances"
TASK_KIND: Final = "Task"
TASK_PLURAL: Final = "tasks"
# Cluster-scoped and admin-owned: where and as whom an instance's nodes run (dtk_api/targets.py).
TARGET_KIND: Final = "Target"
TARGET_PLURAL: Final = "targets"
# "true" marks the default Target of the namespaces it allows, as StorageClass's annotation does.
DEFAULT_TARGET_ANNOTATION: Final = f"{GROUP}/is-default-target"
# Keeps a Target while instances use it (as kubernetes.io/pvc-protection keeps a claim).
TARGET_FINALIZER: Final = f"{GROUP}/target-in-use"

# Labels and annotations carry our own group so that nothing clashes with kopf's defaults.
INSTANCE_LABEL: Final = f"{GROUP}/service-instance"
WORKFLOW_LABEL: Final = f"{GROUP}/workflow"
GENERATION_ANNOTATION: Final = f"{GROUP}/instance-generation"
# Queue position among the instance's Tasks: creationTimestamp has one-second resolution.
SEQUENCE_ANNOTATION: Final = f"{GROUP}/sequence"
FINALIZER: Final = f"{GROUP}/finalizer"
KOPF_PREFIX: Final = GROUP

# EC2 tags written at launch; the token tag makes creation idempotent (SPEC section 7).
TAG_INSTANCE: Final = f"{GROUP}/service-instance"
TAG_NAMESPACE: Final = f"{GROUP}/namespace"
TAG_NODE: Final = f"{GROUP}/node"
TAG_TOKEN: Final = f"{GROUP}/token"

CREATE_WORKFLOW: Final = "create"
CONVERGE_DISPLAY_NAME: Final = "assembly_converge"
POWER_ON_WORKFLOW: Final = "power_on"
ASSEMBLY_WIDE_NODE: Final = "assembly_wide"
DEFAULT_TASK_TIMEOUT_SECONDS: Final = 1200


POWER_ON_DISPLAY_NAME: Final = "power_on_nodes"


def workflow_display_name(workflow: str) -> str:
    """The top row's label: DTK shows converge as `assembly_converge`, a start as `power_on_nodes`."""
    return {CREATE_WORKFLOW: CONVERGE_DISPLAY_NAME, POWER_ON_WORKFLOW: POWER_ON_DISPLAY_NAME}.get(workflow, workflow)

# A big Task's rows below its stages live in TaskShards (SPEC 11, dtk_api/sharding.py), found
# with one list call by this label and collected with their Task (ownerReferences).
SHARD_KIND: Final = "TaskShard"
SHARD_PLURAL: Final = "taskshards"
TASK_LABEL: Final = f"{GROUP}/task"
# A big instance's node-group members are recorded in NodeShards (SPEC 11, dtk_api/node_shards.py),
# labelled with INSTANCE_LABEL and owned by the ServiceInstance.
NODE_SHARD_KIND: Final = "NodeShard"
NODE_SHARD_PLURAL: Final = "nodeshards"
LABEL_VALUE_MAX: Final = 63


def shortened(name: str, limit: int) -> str:
    """`name` when it has at most `limit` characters, else cut and ended with a digest of the
    whole, so two long names stay apart. Ends alphanumeric, as object names and label values must."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[:limit - len(digest) - 1].rstrip('-_.')}-{digest}"


def label_value(name: str) -> str:
    """An object's name as a label value (at most 63 characters). A Task's name may be longer:
    its instance's name may take 63 characters and the Task adds `-N` (or `-xxxxx` for exec)."""
    return shortened(name, LABEL_VALUE_MAX)
