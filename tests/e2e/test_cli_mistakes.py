"""Mistakes on the command line (issue 8 point 15): a folder another sandbox holds, a taken port, a bad
`--demo` file, a malformed or missing kubeconfig. Each costs one line on stderr and exit code 2, never a
traceback, and a sandbox that refuses leaves everything as it found it. Everything runs the real
`dtk-operator` and `kubectl-dtk` executables."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from dtk_api import resources as r
from support.cluster import Kube
from support.manifests import assembly, component, instance
from support.moto_server import free_port

BIN = Path(sys.executable).parent
OPERATOR, PLUGIN = BIN / "dtk-operator", BIN / "kubectl-dtk"
README = Path(__file__).resolve().parents[2] / "README.md"
USAGE_ERROR = 2
REFUSAL_TIMEOUT_SECONDS = 30.0  # a refusal takes 1-3 s (imports); the old code hung, retrying a login
START_TIMEOUT_SECONDS = 60.0  # a sandbox or an operator up and serving: 2-5 s, more on a loaded machine
STOP_TIMEOUT_SECONDS = 15.0


def environment(home: Path, **extra: str) -> dict[str, str]:
    """Outside a pod, no kubeconfig but the ones a test names: HOME is the test's own empty folder."""
    hidden = {"KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "NO_COLOR"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home), **extra}


def refusal(*command: str | Path, env: dict[str, str] | None = None) -> str:
    """Runs the command, which must refuse: exit 2, one stderr line, no traceback. Returns the line."""
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, env=env,
                          timeout=REFUSAL_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert (done.returncode, len(lines)) == (USAGE_ERROR, 1), (done.returncode, done.stderr[-3000:])
    return lines[0]


# ---- the sandbox's folder, port and demo file -----------------------------------------------------------

@contextmanager
def running_sandbox(directory: Path) -> Iterator[subprocess.Popen[str]]:
    """`dtk-operator sandbox --dir DIR`, once it has printed its `export KUBECONFIG=` line."""
    process = subprocess.Popen([str(OPERATOR), "sandbox", "--dir", str(directory)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    try:
        line = first_line(process, START_TIMEOUT_SECONDS)
        assert line == f"export KUBECONFIG={directory / 'kubeconfig'}\n", line
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()  # not left running; the failure says where its operator was
            process.wait()
            log = directory / "operator.log"
            raise AssertionError(f"the sandbox did not stop within {STOP_TIMEOUT_SECONDS:g} s; its log ends:\n"
                                 f"{log.read_text()[-3000:] if log.exists() else '(none)'}") from None


def first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The process's first stdout line, or a failure after `timeout` s (readline alone never gives up)."""
    lines: queue.Queue[str] = queue.Queue()
    if process.stdout is not None:
        stdout = process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no output within {timeout:g} s") from None


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of DIR with its bytes and mtime, but the log the running sandbox keeps writing."""
    return {str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != "operator.log"}


def test_point_15_a_second_sandbox_refuses_a_busy_folder_and_changes_nothing_in_it(tmp_path: Path) -> None:
    directory = tmp_path.resolve() / "sandbox"
    with running_sandbox(directory) as first:
        node = directory / "nodes" / "m1-master"  # the first sandbox's node state
        node.mkdir(parents=True)
        (node / "state").write_text("configured by the first sandbox\n")
        before = snapshot(directory)
        line = refusal(OPERATOR, "sandbox", "--dir", directory)
        assert line == f"dtk-operator sandbox: a sandbox is already running in {directory} (pid {first.pid})"
        assert snapshot(directory) == before  # its kubeconfig, its nodes: untouched
        first.kill()  # a crash: nothing cleans up, the lock file stays behind
        first.wait(STOP_TIMEOUT_SECONDS)
    with running_sandbox(directory):  # the kernel dropped the lock with the process: no stale lock
        assert not node.exists()  # the new holder clears the dead sandbox's nodes


def test_point_15_a_sandbox_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refusal(OPERATOR, "sandbox", "--dir", tmp_path, "--port", str(port))
    assert line == f"dtk-operator sandbox: port {port} is already in use (--port)"
    assert not (tmp_path / "kubeconfig").exists()


INSTANCE_YAML = yaml.safe_dump(instance("m1", "a"))
BAD_DEMOS = {
    "missing": (None, "cannot read it (No such file or directory)"),
    "not-yaml": ("kind: [Assembly\n", "not YAML ("),
    "not-an-object": ("- kind: Assembly\n", "document 1: not an object"),
    "another-api": ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
                    "document 1: v1 Pod is not a dtk.io/v1alpha1 Assembly, ServiceInstance or Task"),
    "nameless": (INSTANCE_YAML.replace("name: m1", "labels: {}"), "document 1: ServiceInstance without metadata.name"),
    "no-instance": (yaml.safe_dump(assembly("a", components=[component("c", "true")], nodes={"n": ["c"]},
                                            stages=[{"name": "s", "components": ["c"]}])),
                    "no ServiceInstance to follow"),
}


@pytest.mark.parametrize("case", list(BAD_DEMOS))
def test_point_15_a_bad_demo_file_is_refused_before_anything_starts(case: str, tmp_path: Path) -> None:
    text, words = BAD_DEMOS[case]
    demo, directory = tmp_path / "demo.yaml", tmp_path / "sandbox"
    if text is not None:
        demo.write_text(text)
    line = refusal(OPERATOR, "sandbox", "--dir", directory, "--demo", demo)
    assert line.startswith(f"dtk-operator sandbox: demo file {demo}") and words in line, line
    assert not directory.exists()  # nothing started, nothing written


# ---- kubeconfigs: kubectl-dtk and dtk-operator run --------------------------------------------------------

def kubeconfig_text(*, current: str | None = "dev", cluster: str = "c1", server: str | None = "https://api:6443",
                    defined_cluster: str = "c1") -> str:
    cluster_body = {"server": server} if server else {}
    doc: dict[str, object] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": defined_cluster, "cluster": cluster_body}],
        "users": [{"name": "u1", "user": {"token": "t"}}],
        "contexts": [{"name": "dev", "context": {"cluster": cluster, "user": "u1"}}],
    }
    if current:
        doc["current-context"] = current
    return yaml.safe_dump(doc)


MALFORMED = {
    "not-yaml": ("clusters: [unclosed\n", "not YAML ("),
    "not-a-mapping": ("- a kubeconfig\n- is not a list\n", "not a kubeconfig"),
    "no-current-context": (kubeconfig_text(current=None), "no current-context set"),
    "context-naming-no-cluster": (kubeconfig_text(defined_cluster="other"),
                                  'context "dev" names cluster "c1", which is not defined'),
    "cluster-without-server": (kubeconfig_text(server=None), 'cluster "c1" has no server'),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_point_15_the_plugin_refuses_a_malformed_kubeconfig_in_one_line(case: str, tmp_path: Path) -> None:
    text, words = MALFORMED[case]
    config = tmp_path / "config.yaml"
    config.write_text(text)
    line = refusal(PLUGIN, "ls", "--kubeconfig", config, env=environment(tmp_path / "home"))
    assert line.startswith("error: ") and str(config) in line and words in line, line


@pytest.mark.parametrize("case", list(MALFORMED))
def test_point_15_run_refuses_a_malformed_kubeconfig_in_one_line(case: str, tmp_path: Path) -> None:
    text, words = MALFORMED[case]
    config = tmp_path / "config.yaml"
    config.write_text(text)
    line = refusal(OPERATOR, "run", "--metrics-port", "0", "--kubeconfig", config, env=environment(tmp_path / "home"))
    assert line.startswith(f"dtk-operator run: kubeconfig {config}: ") and words in line, line


def test_point_15_run_reads_kubeconfig_env_before_home_kube_config(tmp_path: Path) -> None:
    home, config = tmp_path / "home", tmp_path / "env-config.yaml"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text(kubeconfig_text())  # fine, but $KUBECONFIG comes first
    config.write_text(kubeconfig_text(server=None))
    line = refusal(OPERATOR, "run", "--metrics-port", "0", env=environment(home, KUBECONFIG=str(config)))
    assert line == f'dtk-operator run: kubeconfig {config}: cluster "c1" has no server'


def test_point_15_run_without_a_kubeconfig_outside_a_pod_refuses(tmp_path: Path) -> None:
    line = refusal(OPERATOR, "run", "--metrics-port", "0", env=environment(tmp_path / "home"))
    assert line == "dtk-operator run: no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not in a pod"


def test_point_15_run_outside_a_pod_logs_in_with_home_kube_config(kubeconfig: Path, kube: Kube,
                                                                   tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    flat = subprocess.run(["kubectl", "config", "view", "--raw", "--flatten", "--kubeconfig", str(kubeconfig)],
                          capture_output=True, text=True, check=True, timeout=REFUSAL_TIMEOUT_SECONDS)
    (home / ".kube" / "config").write_text(flat.stdout)  # certificates inlined: it works from any folder
    port = free_port()
    with (tmp_path / "operator.log").open("wb") as log:
        process = subprocess.Popen([str(OPERATOR), "run", "-n", kube.namespace, "--metrics-port", str(port),
                                    "--allow-local-target", "--local-root", str(tmp_path / "nodes")],
                                   stdout=log, stderr=subprocess.STDOUT, env=environment(home))
    try:
        serving(process, port, tmp_path / "operator.log")
        kube.create(r.ASSEMBLY_PLURAL, assembly("a", components=[component("c", "true")], nodes={"n": ["c"]},
                                                stages=[{"name": "s", "components": ["c"]}]))
        kube.create(r.INSTANCE_PLURAL, instance("m1", "a"))
        kube.first_task("m1")  # kopf watches and our client writes, both logged in with ~/.kube/config
    finally:
        process.terminate()
        process.wait(STOP_TIMEOUT_SECONDS)


def serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until the operator's /metrics answer (its start-up handler, which builds our client, is done)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the operator did not start; its log ends:\n{log.read_text()[-3000:]}")


def test_point_15_run_help_and_the_readme_give_the_same_kubeconfig_order() -> None:
    order = ("--kubeconfig FILE, else $KUBECONFIG, else the pod's service account when in a pod, "
             "else ~/.kube/config")
    shown = subprocess.run([str(OPERATOR), "run", "--help"], capture_output=True, text=True, check=True,
                           timeout=REFUSAL_TIMEOUT_SECONDS).stdout

    def flat(text: str) -> str:
        return re.sub(r"\s+", " ", text.replace("`", ""))

    assert order in flat(shown)
    assert order in flat(README.read_text())
