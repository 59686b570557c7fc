"""What a user installs and checks first: `kubectl dtk version` against the cluster, and the
release archive krew installs, run from where it was unpacked, without this virtualenv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import instance
from support.plugin import dtk

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
DTK_KINDS = ("assemblies", "serviceinstances", "tasks", "targets", "taskshards", "nodeshards")


def test_version_names_the_client_and_with_server_the_crds_in_the_cluster(kube: Kube) -> None:
    plain = dtk(kube.kubeconfig, kube.namespace, "version")
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, f"Client Version: v{VERSION}\n", "")

    server = dtk(kube.kubeconfig, kube.namespace, "version", "--server")
    assert server.returncode == 0, server.stderr
    lines = server.stdout.splitlines()
    assert lines[0] == f"Client Version: v{VERSION}"
    assert lines[1].startswith("Operator Version: no Deployment labelled app.kubernetes.io/part-of=kube-dtk")
    assert lines[2:] == [f"CRD {kind}.dtk.io: v1alpha1 (storage)" for kind in DTK_KINDS]

    found = json.loads(dtk(kube.kubeconfig, kube.namespace, "version", "--server", "-o", "json").stdout)
    assert found["clientVersion"] == VERSION and found["operators"] == []
    assert [c["name"] for c in found["crds"] if c["installed"]] == [f"{kind}.dtk.io" for kind in DTK_KINDS]
    assert all(c["versions"] == [{"name": "v1alpha1", "served": True, "storage": True}] for c in found["crds"])


def test_the_krew_archive_runs_from_where_krew_unpacks_it(kube: Kube, tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, str(ROOT / "tools" / "plugin_archive.py"), "--out", str(tmp_path)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    unpacked = tmp_path / "store"
    with tarfile.open(tmp_path / f"kubectl-dtk-v{VERSION}.tar.gz") as archive:
        archive.extractall(unpacked, filter="data")
    venv = str(Path(sys.executable).parent)  # the user has python3 on PATH, not this virtualenv
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv)
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/"), "KUBECONFIG": str(kube.kubeconfig)}
    kube.create(r.INSTANCE_PLURAL, instance("archived", "nothing", staged=True))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(unpacked / args[0]), *args[1:]], capture_output=True, text=True, env=env,
                              timeout=60, cwd=tmp_path)

    assert run("kubectl-dtk", "version").stdout == f"Client Version: v{VERSION}\n"
    listed = run("kubectl-dtk", "ls", "-n", kube.namespace)
    assert listed.returncode == 0, listed.stderr
    assert "| archived " in listed.stdout and listed.stdout.endswith("1 row in set\n")
    flags = run("kubectl_complete-dtk", "ls", "-n", kube.namespace, "--no")
    assert flags.stdout == "--no-headers\ttables without header and footer lines\n:4\n"
    # no status yet (no operator here): no phase to describe it with
    assert run("kubectl_complete-dtk", "list-nodes", "-n", kube.namespace, "arch").stdout == "archived\n:4\n"
