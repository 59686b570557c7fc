"""`dtk-operator sandbox`: a Kubernetes API emulator, an EC2 emulator and the operator, in one process."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dtk_operator.engine.services import Options
from dtk_sandbox.demo import run_demo
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.operator_thread import OperatorThread

CRDS = Path(__file__).resolve().parents[2] / "crds"


@contextmanager
def ec2_emulator() -> Iterator[str]:
    """moto's EC2 (and SSM) in server mode, on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def sandbox(directory: Path, *, port: int = 0, validation: bool = True) -> Iterator[Path]:
    """Everything started; yields the kubeconfig path. Stops everything on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(directory / "nodes", ignore_errors=True)  # the last sandbox's machines died with its API
    api = ServedApi(KubeApiEmulator(validation=validation), port=port)
    api.start()
    try:
        api.install_crds(CRDS)
        kubeconfig = write_kubeconfig(directory / "kubeconfig", api.url)
        os.environ["KUBECONFIG"] = str(kubeconfig)  # kopf's default login reads it
        with ec2_emulator() as ec2_url:
            (directory / "ec2-endpoint").write_text(ec2_url + "\n")
            # The ec2 target's default credential chain and endpoint lead to the sandbox's moto.
            os.environ.update(AWS_ENDPOINT_URL=ec2_url, AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox")
            operator = OperatorThread(kubeconfig=kubeconfig,
                                      options=Options(allow_local_target=True, local_root=directory / "nodes"))
            operator.start()
            try:
                yield kubeconfig
            finally:
                operator.stop()
    finally:
        api.stop()


def _log_to(path: Path) -> None:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def run_sandbox(*, demo: Path | None, directory: Path, port: int = 0, validation: bool = True) -> int:
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    _log_to(directory / "operator.log")  # the terminal is for the Task, the log file for the operator
    with sandbox(directory, port=port, validation=validation) as kubeconfig:
        print(f"export KUBECONFIG={kubeconfig}", flush=True)
        print(f"# operator log: {directory / 'operator.log'}", file=sys.stderr, flush=True)
        if demo is not None:
            return run_demo(kubeconfig, demo)
        print("# sandbox running; Ctrl-C stops it", file=sys.stderr, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0
