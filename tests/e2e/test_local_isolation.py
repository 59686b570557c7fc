"""A `local` step cannot read its operator's environment or memory (docs/security.md).

The operator runs as an unprivileged user, as in its image (uid 65532): root, which has
CAP_SYS_PTRACE, could read any process's /proc anyway. A step tries to read /proc/PID/environ
of each of its ancestors (its parent, the operator, and on up) and of its siblings (the
operator's other children: the reaper); every read must be refused, while the step's own
environment stays exactly docs/reference.md's "The step environment".
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance, steps_of
from support.operator_process import OperatorProcess, served

OPERATOR_USER = 65532  # the image's (Containerfile)
PLANTED = "planted-4c1d-not-for-steps"  # a credential in the operator's environment
INHERITED = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
SHELL_OWN = ("PWD", "SHLVL", "_")  # what /bin/sh exports of its own (dash: PWD; bash adds the others)

# Prints "<role> <pid> <what reading /proc/<pid>/environ gave>" for itself, each ancestor and
# each other child of its parent. Nothing may stand between the operator and the step's shell,
# so $PPID is the operator.
PROBE = r"""
probe() {
  if said=$(cat "/proc/$2/environ" 2>&1 >/dev/null); then echo "$1 $2 readable"; else echo "$1 $2 ${said##*: }"; fi
}
probe self $$
pid=$PPID
while [ "${pid:-0}" -gt 0 ]; do
  probe ancestor "$pid"
  pid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$pid/status")
done
for status in /proc/[0-9]*/status; do
  child=${status#/proc/}; child=${child%/status}
  if [ "$child" != $$ ] && grep -qx "PPid:[[:space:]]*$PPID" "$status" 2>/dev/null; then probe sibling "$child"; fi
done
"""


def _reach_capability() -> str:
    """The one capability the operator's user keeps: the interpreter and pytest's folders may be
    where only root reaches (here: pyenv under /root, mode 0700). It opens files, not processes:
    reading another process's environ takes CAP_SYS_PTRACE, which the user does not get."""
    effective = int(next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                         if line.startswith("CapEff:")), 16)
    for bit, name in ((2, "dac_read_search"), (1, "dac_override")):
        if effective & (1 << bit):
            return name
    pytest.skip("root here has neither CAP_DAC_READ_SEARCH nor CAP_DAC_OVERRIDE, which another user needs to "
                "reach this interpreter and pytest's folders")


def _as_operator_user() -> list[str]:
    """setpriv's command line that execs the operator as OPERATOR_USER (setpriv execs: no process between)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs root on Linux, to start the operator as another user: as the operator's own user, "
                    "or as root (CAP_SYS_PTRACE), /proc/PID/environ is readable whatever the operator does")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv (util-linux) to start the operator as another user")
    capability = _reach_capability()
    return [setpriv, f"--reuid={OPERATOR_USER}", f"--regid={OPERATOR_USER}", "--clear-groups",
            f"--inh-caps=-all,+{capability}", f"--ambient-caps=-all,+{capability}", "--"]


@pytest.fixture
def unprivileged_operator(request: pytest.FixtureRequest, kubeconfig: Path, namespace: str,
                          tmp_path: Path) -> Iterator[OperatorProcess]:
    wrapper = _as_operator_user()
    home = tmp_path / "home"
    for folder in (home, tmp_path / "nodes"):  # the folders it writes: its home and the local target's root
        folder.mkdir()
        os.chown(folder, OPERATOR_USER, OPERATOR_USER)
    # USER: kopf names the operator after its user (getpass), and this host's passwd may lack the image's.
    env = {**INHERITED, "HOME": str(home), "TMPDIR": str(home), "USER": "dtk", "AWS_SECRET_ACCESS_KEY": PLANTED}
    yield from served(request, OperatorProcess(kubeconfig=kubeconfig, namespace=namespace, workdir=tmp_path,
                                               env=env, wrapper=wrapper))


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid`, seen from outside (root reads every /proc/PID/status)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:  # gone meanwhile
            continue
        if f"PPid:\t{pid}" in lines:
            found.add(int(status.parent.name))
    return found


def _probed(stdout: str) -> tuple[int, list[int], set[int], dict[int, str]]:
    """The step's pid, its ancestors (nearest first), its siblings, and what reading each one's environ gave."""
    lines = [line.split(" ", 2) for line in stdout.splitlines()]
    (myself,) = [int(pid) for role, pid, _ in lines if role == "self"]
    ancestors = [int(pid) for role, pid, _ in lines if role == "ancestor"]
    siblings = {int(pid) for role, pid, _ in lines if role == "sibling"}
    return myself, ancestors, siblings, {int(pid): said for _, pid, said in lines}


def test_a_local_step_cannot_read_the_operator_or_the_reaper(kube: Kube,
                                                             unprivileged_operator: OperatorProcess) -> None:
    operator = unprivileged_operator
    nosy = component("probe", PROBE, "env", attributes={"port": "8080"})
    kube.create(r.ASSEMBLY_PLURAL, assembly("nosy", components=[nosy], nodes={"a": ["probe"]},
                                            stages=[{"name": "probe", "components": ["probe"]}]))
    kube.create(r.INSTANCE_PLURAL, instance("iso", "nosy"))
    name = kube.first_task("iso")
    done = kube.finished_task(name)
    assert done["status"]["state"] == "succeeded", done["status"].get("failure")
    probe, env = steps_of(done)["2.1"]["results"]

    myself, ancestors, siblings, said = _probed(probe["stdout"])
    assert ancestors[0] == operator.pid, probe["stdout"]  # no wrapper process between the operator and the step
    reaper = _children(operator.pid)  # the step has ended: the operator's one child left is the reaper
    assert len(reaper) == 1 and siblings == reaper, (probe["stdout"], reaper)
    assert Path(f"/proc/{min(reaper)}/cmdline").read_bytes().split(b"\0")[:3] == [sys.executable.encode(),
                                                                                   b"-S", b"-c"]
    others = [*ancestors, *siblings]
    assert {pid: said[pid] for pid in others} == dict.fromkeys(others, "Permission denied"), probe["stdout"]
    assert said[myself] == "readable"  # the step itself stays an ordinary process
    node_dir = operator.local_root / kube.namespace / "iso" / "a"
    _assert_documented_environment(env["stdout"], operator=operator, node_dir=node_dir, task=name)
    assert PLANTED not in str(done["status"])


def _assert_documented_environment(printed: str, *, operator: OperatorProcess, node_dir: Path, task: str) -> None:
    """`env` in the step shows docs/reference.md's "The step environment", and nothing else of the operator's."""
    seen = dict(line.split("=", 1) for line in printed.splitlines())
    assert seen.pop("PWD", str(node_dir)) == str(node_dir)
    assert re.fullmatch("[0-9a-f]{32}", seen.pop("DTK_STEP_LIFE", ""))  # this operator life's id
    assert {k: v for k, v in seen.items() if k not in SHELL_OWN} == {
        **INHERITED, "HOME": operator.env["HOME"], "TMPDIR": operator.env["TMPDIR"],
        "DTK_NODE": "a", "DTK_COMPONENT": "probe", "DTK_TASK": task, "DTK_ROW": "2.1", "DTK_ATTR_PORT": "8080",
        "DTK_NODE_DIR": str(node_dir), "DTK_STEP_SCOPE": str(node_dir.parent),
    }
