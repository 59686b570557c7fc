"""Issue 8 point 12: names and commands rendered from long params keep the Task under 256 KiB.

Every input here is schema-valid: a param of 256 allowed characters (the most the Task CRD
takes), stage names of 253 characters (the Assembly CRD's bound) made of `{{p}}` references,
and commands, which the Assembly CRD does not bound, made of more of them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, steps_of, task
from support.operator_process import OperatorProcess

PARAM = "a" * 255 + "z"  # 256 characters: the longest value spec.params accepts
STAGES = 80  # enough that names and commands alone pass the operator's 200 KiB budget once capped
NAME_REFS = 50  # `{{p}}` is 5 characters: a 3-digit prefix and 50 of them make a 253-character name
RUN_REFS = 9  # 2309 characters once rendered: over the cap on a command
OBJECT_LIMIT = 256 * 1024
MARKER = " more characters)"


def wordy_assembly() -> dict[str, Any]:
    stages = [{"name": f"{i:03d}" + "{{p}}" * NAME_REFS, "actions": ["wide.go"]} for i in range(STAGES)]
    return assembly(
        "wordy", components=[component("wide", "true", actions={"go": ["true " + "{{p}}" * RUN_REFS]})],
        nodes={"n": ["wide"]}, stages=[{"name": "setup", "components": ["wide"]}],
        workflows=[{"name": "big", "params": ["p"], "stages": stages}],
    )


def test_point_12_names_and_commands_rendered_from_long_params_keep_the_task_under_256_kib(
    kube: Kube, operator: OperatorProcess
) -> None:
    kube.create(r.ASSEMBLY_PLURAL, wordy_assembly())
    kube.create(r.INSTANCE_PLURAL, instance("wordy", "wordy"))
    converge = kube.finished_task(kube.first_task("wordy"), timeout=60)
    assert converge["status"]["state"] == "succeeded"
    kube.create(r.TASK_PLURAL, task("wordy-big", "wordy", "big", params={"p": PARAM}))
    kube.finished_task("wordy-big", timeout=180)
    stored = kube.get(r.TASK_PLURAL, "wordy-big")  # what the API server holds, read back whole
    assert stored is not None
    size = len(json.dumps(stored, separators=(",", ":")).encode())
    assert size < OBJECT_LIMIT, f"the stored Task is {size} bytes"
    assert stored["status"]["state"] == "succeeded", stored["status"].get("failure")
    steps = steps_of(stored)
    assert len([s for s in steps.values() if s["kind"] == "stage"]) == STAGES
    names = [steps[str(i + 1)]["name"] for i in range(STAGES)]
    assert all(n.startswith(f"{i:03d}{PARAM[:20]}") and n.endswith(MARKER) for i, n in enumerate(names)), names[0]
    assert shown_plus_hidden(names[0]) == 3 + NAME_REFS * len(PARAM)  # the marker counts what was cut
    run = steps["1.1"]["results"][0]["run"]
    assert run.startswith(f"true {PARAM[:20]}") and shown_plus_hidden(run) == 5 + RUN_REFS * len(PARAM)


def shown_plus_hidden(text: str) -> int:
    """The length of the text before it was cut: what is shown plus what the marker says is hidden."""
    found = re.fullmatch(r"(.*)… \((\d+) more characters\)", text, re.DOTALL)
    assert found is not None, f"no cut marker at the end of {text[-80:]!r}"
    return len(found[1]) + int(found[2])
