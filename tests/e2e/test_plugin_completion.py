"""Tab completion of `kubectl dtk` through the real kubectl: kubectl (1.26+) runs
`kubectl_complete-dtk` from PATH for `kubectl dtk ...<TAB>` and passes its answer on to the shell.

`kubectl __complete dtk ...` is what kubectl's own completion scripts run on Tab: its stdout is the
candidates (`value<TAB>description`), then `:<directive>`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, task
from support.operator_process import OperatorProcess

BIN = Path(sys.executable).parent  # kubectl-dtk and kubectl_complete-dtk, as pip installs them
NO_FILES = 4
KEEP_ORDER = 32


def tab(kube: Kube, *words: str, kubeconfig: Path | None = None) -> tuple[list[str], int]:
    """`kubectl __complete dtk WORDS...` with the plugin's directory on PATH: the candidates (values
    only) and the directive. Nothing but candidates may reach stdout (the shell offers all of it)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "KUBECONFIG": str(kubeconfig or kube.kubeconfig)}
    done = subprocess.run(["kubectl", "__complete", "dtk", *words], capture_output=True, text=True, env=env,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and lines[-1].startswith(":"), done.stdout
    return [line.split("\t")[0] for line in lines[:-1]], int(lines[-1][1:])


def two_instances(kube: Kube, *, operator_runs: bool = True) -> None:
    """`app` (two workflows, the second with a param) and `other` (staged)."""
    tools = component("tools", "echo tools", actions={"load": ["echo loading {{name}}"]})
    kube.create(r.ASSEMBLY_PLURAL, assembly(
        "app", components=[tools], nodes={"web": ["tools"]}, groups={"workers": (2, ["tools"])},
        stages=[{"name": "tools", "components": ["tools"]}],
        workflows=[{"name": "load", "params": ["name"], "stages": [{"name": "load", "actions": ["tools.load"],
                                                                    "node": "web"}]}]))
    if operator_runs:  # it sees the Assembly first: an instance racing its Assembly's first look is no concern here
        kube.wait("assembly app to be observed",
                  lambda: ((kube.get(r.ASSEMBLY_PLURAL, "app") or {}).get("status") or {}).get("nodeCount"))
    kube.create(r.INSTANCE_PLURAL, instance("app", "app"))
    kube.create(r.INSTANCE_PLURAL, instance("other", "app", staged=True))


def test_tab_completes_commands_flags_and_the_clusters_objects(kube: Kube, operator: OperatorProcess) -> None:
    two_instances(kube)
    first = kube.finished_task(kube.first_task("app"))
    ns = ["-n", kube.namespace]

    commands, directive = tab(kube, "")
    assert {"task-status", "deploy", "exec", "task-action-detail", "describe-task", "version"} <= set(commands)
    assert directive == NO_FILES
    assert tab(kube, "task-")[0] == ["task-status", "task-action-detail"]
    assert "--wait" in tab(kube, "task-status", "--w")[0] and "--mode" not in tab(kube, "task-status", "--w")[0]
    assert tab(kube, "task-status", "-m", "")[0] == ["snapshot", "refresh", "stream"]

    assert tab(kube, "task-status", *ns, "")[0] == ["app", "other"]  # the namespace's instances
    assert tab(kube, "task-status", *ns, "o")[0] == ["other"]
    assert tab(kube, "deploy", *ns, "")[0] == ["app"]  # assemblies

    names, directive = tab(kube, "task-status", "app", *ns, "--task", "")
    task_id = first["metadata"]["uid"][:8]
    assert names == [first["metadata"]["name"], task_id]  # its Tasks: names, then the IDs list-tasks shows
    assert directive == NO_FILES | KEEP_ORDER
    assert tab(kube, "cancel-task", *ns, "app", "")[0] == names

    assert tab(kube, "exec", *ns, "app", "")[0] == ["create", "load"]  # workflows of the instance's Assembly

    rows, directive = tab(kube, "task-action-detail", *ns, "app", "")
    assert rows == [s["index"] for s in first["status"]["steps"] if s["index"]]  # every row, in table order
    assert rows == ["1", "1.1", "1.2", "1.3", "2", "2.1", "2.1.1", "2.1.2", "2.2"]  # the group, its members, web
    assert directive == NO_FILES | KEEP_ORDER
    assert tab(kube, "task-action-detail", *ns, "app", "2.1")[0] == ["2.1", "2.1.1", "2.1.2"]


def test_row_numbers_of_a_task_chosen_with_task(kube: Kube) -> None:
    """`--task T` before the row: the rows of that Task, not of the latest (no operator needed)."""
    two_instances(kube, operator_runs=False)
    kube.create(r.TASK_PLURAL, task("app-old", "app", "create"))
    kube.patch_status(r.TASK_PLURAL, "app-old", {"state": "succeeded", "steps": [
        {"index": "", "kind": "task", "name": "assembly_converge", "status": "succeeded"},
        {"index": "1", "kind": "stage", "name": "only stage", "status": "succeeded"}]})
    rows, _ = tab(kube, "task-action-detail", "-n", kube.namespace, "app", "--task", "app-old", "")
    assert rows == ["1"]


def test_a_tab_against_an_unreachable_cluster_offers_nothing_and_prints_no_error(kube: Kube, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = tmp_path / "kubeconfig"
    dead.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: u, user: {{token: x}}}}]
contexts: [{{name: k, context: {{cluster: c, user: u, namespace: default}}}}]
current-context: k
""")
    env = {**os.environ, "KUBECONFIG": str(dead)}
    done = subprocess.run([str(BIN / "kubectl_complete-dtk"), "task-status", ""], capture_output=True, text=True,
                          env=env, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, f":{NO_FILES}\n", "")
    commands = subprocess.run([str(BIN / "kubectl_complete-dtk"), "ver"], capture_output=True, text=True, env=env,
                              timeout=30)
    assert commands.stdout == f"version\n:{NO_FILES}\n"  # commands need no cluster
