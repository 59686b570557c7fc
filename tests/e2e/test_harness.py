"""The real-cluster branch of the test harness (DTK_TEST_KUBECONFIG), run against an emulator served here.

It must install and wait for exactly our three CRDs: `kubectl wait -f crds` is recursive by default
and would also wait for the objects of crds/samples/, which never exist, so every e2e test would
error at set-up on a real cluster.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from dtk_api import resources as r
from dtk_sandbox.kubeapi import ServedApi, write_kubeconfig
from support.cluster import CRDS, api_server, crd_names

pytestmark = pytest.mark.e2e

OUR_CRDS = ["assemblies.dtk.io", "nodeshards.dtk.io", "serviceinstances.dtk.io", "targets.dtk.io", "tasks.dtk.io",
            "taskshards.dtk.io"]
END = "--end-of-call--"


@pytest.fixture
def kubectl_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Puts a `kubectl` first on PATH that logs its arguments, then runs the real one."""
    real = shutil.which("kubectl")
    assert real is not None, "kubectl is not on PATH"
    bin_dir, log = tmp_path / "bin", tmp_path / "kubectl-calls.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a" >> "{log}"; done\n'
                       f'echo "{END}" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    yield log


def calls(log: Path) -> list[list[str]]:
    found: list[list[str]] = []
    current: list[str] = []
    for line in log.read_text().splitlines():
        if line == END:
            found.append(current)
            current = []
        else:
            current.append(line)
    return found


def verb(call: list[str]) -> str:
    return call[2]  # kubectl --kubeconfig PATH <verb> ...


def test_crd_names_come_from_the_crd_files_only() -> None:
    assert crd_names(CRDS) == OUR_CRDS
    assert (CRDS / "samples").is_dir()  # the folder the old `kubectl wait -f crds` tripped over


def test_real_cluster_branch_installs_and_waits_for_exactly_our_crds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubectl_calls: Path) -> None:
    with ServedApi() as served:
        config = write_kubeconfig(tmp_path / "cluster.kubeconfig", served.url)
        monkeypatch.setenv("DTK_TEST_KUBECONFIG", str(config))
        with api_server(tmp_path / "work") as given:
            assert given == config
            api = k8s_config.new_client_from_config(config_file=str(config))
            crds = k8s.ApiextensionsV1Api(api).list_custom_resource_definition().items
            established = {c.metadata.name for c in crds
                           if any(x.type == "Established" and x.status == "True" for x in c.status.conditions or [])}
            assert established == set(OUR_CRDS)
            custom = k8s.CustomObjectsApi(api)
            for plural in (r.ASSEMBLY_PLURAL, r.INSTANCE_PLURAL, r.TASK_PLURAL):
                found: dict[str, Any] = custom.list_cluster_custom_object(r.GROUP, r.VERSION, plural)
                assert found["items"] == [], f"sample {plural} were created"

    made = calls(kubectl_calls)
    assert [verb(c) for c in made] == ["apply", "wait"]
    apply, wait = made
    applied = [Path(apply[i + 1]).name for i, arg in enumerate(apply) if arg == "-f"]
    assert applied == ["assembly.yaml", "nodeshard.yaml", "serviceinstance.yaml", "target.yaml", "task.yaml",
                       "taskshard.yaml"]
    assert "-R" not in apply and "--recursive" not in " ".join(apply)
    assert "-f" not in wait and "--filename" not in " ".join(wait)
    waited = [arg.removeprefix("customresourcedefinition.apiextensions.k8s.io/") for arg in wait
              if arg.startswith("customresourcedefinition.apiextensions.k8s.io/")]
    assert waited == OUR_CRDS
    assert "--for=condition=Established" in wait
    assert any(arg.startswith("--timeout=") for arg in wait)


def test_an_unreachable_cluster_fails_set_up_saying_what_kubectl_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a local port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_kubeconfig(tmp_path / "nowhere.kubeconfig", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DTK_TEST_KUBECONFIG", str(config))
    with pytest.raises(RuntimeError, match=r"kubectl .* apply .* exited 1:\n.*connection refused"), \
            api_server(tmp_path / "work"):
        pytest.fail("api_server yielded without a reachable cluster")
