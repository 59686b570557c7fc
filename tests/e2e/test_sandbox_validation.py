"""`dtk-operator sandbox` validates what users apply, as a real cluster does; `--no-validation`
stores anything (only for tests of the operator's own defences)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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


INLINE_TARGET_INSTANCE = """\
apiVersion: dtk.io/v1alpha1
kind: ServiceInstance
metadata: {{name: sneaky}}
spec:
  assemblyRef: {{name: typo}}
  target:
    provider: ec2
    ec2:
      region: us-east-1
      endpointURL: http://127.0.0.1:{port}
      roleArn: arn:aws:iam::999999999999:role/prod-admin
      credentialsSecretRef: {{name: aws-creds}}
"""


@contextmanager
def counting_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback port that accepts connections and keeps what each sent first (nothing should come)."""
    seen: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with suppress(TimeoutError):
                connection, _ = server.accept()
                with connection:
                    connection.settimeout(1.0)
                    with suppress(OSError):
                        seen.append(connection.recv(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_the_old_inline_target_is_refused_or_dropped_and_contacts_nothing(tmp_path: Path) -> None:
    """What issue 17's attacker sent (an endpoint and a role of their choosing) no longer reaches AWS."""
    with sandbox(tmp_path) as kubeconfig, counting_listener() as (port, seen):
        assert kubectl(kubeconfig, "apply", "--validate=warn", "-f", "-", stdin=TYPO_ASSEMBLY).returncode == 0
        manifest = INLINE_TARGET_INSTANCE.format(port=port)
        strict = kubectl(kubeconfig, "apply", "-f", "-", stdin=manifest)
        assert strict.returncode == 1
        assert 'strict decoding error: unknown field "spec.target"' in strict.stderr
        warned = kubectl(kubeconfig, "apply", "--validate=warn", "-f", "-", stdin=manifest)
        assert warned.returncode == 0, warned.stderr
        assert warned.stderr == 'Warning: unknown field "spec.target"\n'
        ready = kubectl(kubeconfig, "wait", "--for=condition=Ready", "si/sneaky", "--timeout=60s")
        assert ready.returncode == 0, ready.stderr
        stored = yaml.safe_load(kubectl(kubeconfig, "get", "si", "sneaky", "-o", "yaml").stdout)
        assert "target" not in stored["spec"] and stored["status"]["target"] == "local-sandbox"  # the default
        assert seen == []  # not one connection to the endpoint it named
