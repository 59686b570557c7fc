"""`dtk-operator sandbox`: a Kubernetes API emulator, an EC2 emulator and the operator, in one process.

One sandbox a folder: its kubeconfig and its nodes live there, and a second sandbox would overwrite
the first one's kubeconfig and delete its nodes. The folder is held by an advisory lock that the
kernel drops when the process ends, however it ends, so a crashed sandbox never leaves a stale lock.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dtk_operator.engine.services import Options
from dtk_operator.stop_signals import StopRequested, StopSignals
from dtk_sandbox.demo import Demo, run_demo
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.operator_thread import OperatorThread

CRDS = Path(__file__).resolve().parents[2] / "crds"
LOCK_FILE = "sandbox.lock"  # holds the holder's pid, for the refusal message only: the lock is the flock
PID_WAIT_SECONDS = 1.0  # the holder writes its pid right after taking the lock; this covers that instant


class SandboxError(RuntimeError):
    """The sandbox cannot start (its folder is in use, its port taken): one line, exit 2."""


@contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """DIR is ours until the block ends; refused, with the holder's pid, while another sandbox has it.
    Opening the lock file changes nothing in it, so a refused sandbox leaves DIR exactly as it was."""
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by step processes
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SandboxError(f"a sandbox is already running in {directory} (pid {_holder(fd)})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    deadline = time.monotonic() + PID_WAIT_SECONDS
    while True:
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if pid or time.monotonic() >= deadline:
            return pid or "unknown"
        time.sleep(0.02)


def _serve(api: ServedApi, port: int) -> None:
    try:
        api.start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SandboxError(f"port {port} is already in use (--port)") from error
        raise SandboxError(f"cannot serve the API on 127.0.0.1:{port} ({error.strerror})") from error


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
    """Everything started; yields the kubeconfig path. Stops everything on exit. The caller holds
    `folder_lock(directory)`: this clears the folder's nodes."""
    api = ServedApi(KubeApiEmulator(validation=validation), port=port)
    try:
        _serve(api, port)  # first, so that a taken port leaves the folder as it was
        shutil.rmtree(directory / "nodes", ignore_errors=True)  # the last sandbox's machines died with its API
        api.install_crds(CRDS)
        kubeconfig = write_kubeconfig(directory / "kubeconfig", api.url)
        os.environ["KUBECONFIG"] = str(kubeconfig)  # kopf's default login reads it
        with ec2_emulator() as ec2_url:
            (directory / "ec2-endpoint").write_text(ec2_url + "\n")
            # The ec2 target's default credential chain and endpoint lead to the sandbox's moto.
            os.environ.update(AWS_ENDPOINT_URL=ec2_url, AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox")
            operator = OperatorThread(kubeconfig=kubeconfig,
                                      options=Options(allow_local_target=True, local_root=directory / "nodes"))
            try:
                operator.start()  # inside: a stop request while it starts still stops it
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


def run_sandbox(*, demo: Demo | None, directory: Path, port: int = 0, validation: bool = True) -> int:
    """Runs until stopped (SIGINT or SIGTERM), or until the demo's Task ends. A stopped idle sandbox exits
    0, as asked; an interrupted demo exits 128 + the signal's number, as a shell reports it."""
    directory = directory.resolve()
    try:
        with StopSignals(raising=True) as stop_signals:
            directory.mkdir(parents=True, exist_ok=True)
            with folder_lock(directory):
                return _run_locked(stop_signals, demo=demo, directory=directory, port=port, validation=validation)
    except StopRequested as stop:
        if demo is None:
            return 0
        print(f"dtk-operator sandbox: {stop.name} received; the demo did not finish, the sandbox stopped",
              file=sys.stderr, flush=True)
        return 128 + stop.number


def _run_locked(stop_signals: StopSignals, *, demo: Demo | None, directory: Path, port: int, validation: bool) -> int:
    _log_to(directory / "operator.log")  # the terminal is for the Task, the log file for the operator
    with sandbox(directory, port=port, validation=validation) as kubeconfig:
        print(f"export KUBECONFIG={kubeconfig}", flush=True)
        print(f"# operator log: {directory / 'operator.log'}", file=sys.stderr, flush=True)
        if demo is not None:
            return run_demo(kubeconfig, demo)
        print("# sandbox running; Ctrl-C stops it", file=sys.stderr, flush=True)
        stop_signals.wait_forever()
