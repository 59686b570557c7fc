"""A command printing 10 MB leaves the Task status small, with the end of the output kept."""

from __future__ import annotations

import json

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, steps_of
from support.operator_process import OperatorProcess

NOISE = ("head -c 10000000 /dev/zero | tr '\\0' e >&2; head -c 10000000 /dev/zero | tr '\\0' o; "
         "echo; echo THE-END")


def test_ten_megabytes_of_output_keep_the_status_under_256_kib(kube: Kube, operator: OperatorProcess) -> None:
    kube.create(r.ASSEMBLY_PLURAL, assembly("noisy", components=[component("noise", NOISE, NOISE)],
                                            nodes={"n": ["noise"]}, groups={"g": (3, ["noise"])},
                                            stages=[{"name": "noise", "components": ["noise"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("loud", "noisy"))
    name = kube.first_task("loud")
    done = kube.finished_task(name, timeout=120)
    assert done["status"]["state"] == "succeeded"
    assert len(json.dumps(done).encode()) < 256 * 1024
    result = steps_of(done)["2.2"]["results"][1]
    assert result["truncated"] is True
    assert result["stdout"].rstrip().endswith("THE-END")
    assert set(result["stderr"]) == {"e"} and 0 < len(result["stdout"]) <= 4096
