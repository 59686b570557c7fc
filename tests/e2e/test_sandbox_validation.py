"""`dtk-operator sandbox` validates what users apply, as a real cluster does; `--no-validation`
stores anything (only for tests of the operator's own defences)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

START_TIMEOUT_SECONDS = 60.0
KUBECTL_TIMEOUT_SECONDS = 30.0

TYPO_ASSEMBLY = """\
apiVersion: dtk.io/v1alpha1
kind: Assembly
metadata: {name: typo}
spec:
  components:
  - name: base
    create: [{run: "true"}]
  nodes:
  - {name: master, components: [base]}
  nodegroups:
  - {name: slaves, cardinalty: 2, components: [base]}
  workflows:
  - name: create
    stages: [{name: configure, components: [base]}]
"""
BAD_INSTANCE = """\
apiVersion: dtk.io/v1alpha1
kind: ServiceInstance
metadata: {name: m1}
spec:
  assemblyRef: {name: typo}
  staged: "string"
  power: sleeping
  target: {provider: gcp}
  nodeGroups: [{name: slaves, cardinality: -3}]
"""


@contextmanager
def sandbox(directory: Path, *flags: str) -> Iterator[Path]:
    process = subprocess.Popen([str(Path(sys.executable).parent / "dtk-operator"), "sandbox", "--dir", str(directory),
                                *flags], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                               text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the API, EC2 and the operator are up
        assert first.startswith("export KUBECONFIG="), first
        yield Path(first.strip().partition("=")[2])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=START_TIMEOUT_SECONDS)


def kubectl(kubeconfig: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], input=stdin, capture_output=True,
                          text=True, timeout=KUBECTL_TIMEOUT_SECONDS)


def test_a_typo_is_warned_and_dropped_or_refused_and_a_bad_instance_is_refused_field_by_field(tmp_path: Path) -> None:
    with sandbox(tmp_path) as kubeconfig:
        strict = kubectl(kubeconfig, "apply", "-f", "-", stdin=TYPO_ASSEMBLY)  # kubectl's default: --validate=strict
        assert strict.returncode == 1
        assert 'strict decoding error: unknown field "spec.nodegroups"' in strict.stderr
        warned = kubectl(kubeconfig, "apply", "--validate=warn", "-f", "-", stdin=TYPO_ASSEMBLY)
        assert warned.returncode == 0, warned.stderr
        assert warned.stderr == 'Warning: unknown field "spec.nodegroups"\n'
        stored = yaml.safe_load(kubectl(kubeconfig, "get", "asm", "typo", "-o", "yaml").stdout)
        assert "nodegroups" not in stored["spec"] and stored["spec"]["nodes"][0]["name"] == "master"

        refused = kubectl(kubeconfig, "apply", "-f", "-", stdin=BAD_INSTANCE)
        assert refused.returncode == 1
        lines = refused.stderr.splitlines()
        assert lines[0] == 'The ServiceInstance "m1" is invalid: '
        assert set(lines[1:]) == {
            '* spec.staged: Invalid value: "string": spec.staged in body must be of type boolean: "string"',
            '* spec.target.provider: Unsupported value: "gcp": supported values: "ec2", "local"',
            '* spec.nodeGroups[0].cardinality: Invalid value: -3: spec.nodeGroups[0].cardinality in body should be '
            'greater than or equal to 0',
            '* spec.power: Unsupported value: "sleeping": supported values: "running", "stopped"',
            '* <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; '
            'correct the existing errors to complete validation',
        }
        assert kubectl(kubeconfig, "get", "si", "m1").returncode == 1  # nothing was stored


def test_no_validation_stores_what_a_real_server_would_refuse(tmp_path: Path) -> None:
    with sandbox(tmp_path, "--no-validation") as kubeconfig:
        applied = kubectl(kubeconfig, "apply", "--validate=strict", "-f", "-", stdin=TYPO_ASSEMBLY)
        assert applied.returncode == 0, applied.stderr
        stored = yaml.safe_load(kubectl(kubeconfig, "get", "asm", "typo", "-o", "yaml").stdout)
        assert stored["spec"]["nodegroups"] == [{"name": "slaves", "cardinalty": 2, "components": ["base"]}]
