"""`dtk-operator sandbox`: a Kubernetes API emulator, an EC2 emulator and the operator, in one process.

The main thread only waits: for a stop signal, or for the worker thread that starts everything (and
runs the demo) to end. Then it stops what was started, newest first. Nothing is ever raised into
the middle of a start or of the demo, so a stop is the same orderly teardown whenever it comes:
kopf first (its Task runs park their status and kill their steps, while the API still answers),
then EC2, then the API, which ends the demo's watch.

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
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dtk_operator.engine.services import Options
from dtk_operator.stop_signals import StopSignals
from dtk_sandbox.demo import Demo, run_demo
from dtk_sandbox.kubeapi import KubeApiEmulator, ServedApi, write_kubeconfig
from dtk_sandbox.operator_thread import OperatorThread
from dtk_sandbox.targets import EC2_TARGET, LOCAL_TARGET, create_targets, sandbox_targets, wait_until_ready

CRDS = Path(__file__).resolve().parents[2] / "crds"
LOCK_FILE = "sandbox.lock"  # holds the holder's pid, for the refusal message only: the lock is the flock
PID_WAIT_SECONDS = 1.0  # the holder writes its pid right after taking the lock; this covers that instant
WORKER_STOP_SECONDS = 10.0  # the worker ends within a second of the teardown; this bounds a stuck one

logger = logging.getLogger(__name__)


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


class Teardown:
    """What the worker started, stopped by the main thread; once stopping, nothing more starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []
        self.stopping = False

    def add(self, stop: Callable[[], None]) -> None:
        """Registers `stop`, or, when the teardown has begun, calls it and ends the worker's start."""
        with self._lock:
            if not self.stopping:
                self._stops.append(stop)
                return
        stop()
        raise Interrupted

    def check(self) -> None:
        if self.stopping:
            raise Interrupted

    def run(self) -> None:
        with self._lock:
            self.stopping = True
            stops, self._stops = self._stops[::-1], []
        for stop in stops:
            try:
                stop()
            except Exception:  # the next one must still stop
                logger.exception("sandbox: stopping %s failed", stop)


class Interrupted(Exception):
    """The worker's start, cut short by a stop: not an error."""


def ec2_emulator(teardown: Teardown) -> str:
    """moto's EC2 (and SSM) in server mode, on a free loopback port; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()  # returns once it serves (its stop, called earlier, would wait forever)
    teardown.add(server.stop)
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


class Worker:
    """Starts the API, EC2 and the operator, prints the kubeconfig line, then runs the demo (if any)."""

    def __init__(self, directory: Path, *, demo: Demo | None, port: int, validation: bool,
                 on_end: Callable[[], None]) -> None:
        self.directory, self.demo, self.port, self.validation = directory, demo, port, validation
        self.teardown, self._on_end = Teardown(), on_end
        self.ended = threading.Event()
        self.code = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sandbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            self.code = self._run()
        except Interrupted:
            pass
        except BaseException as error:  # the main thread reports it (a SandboxError as one line)
            self.error = error
        finally:
            self.ended.set()
            self._on_end()

    def _run(self) -> int:
        teardown, directory = self.teardown, self.directory
        api = ServedApi(KubeApiEmulator(validation=self.validation), port=self.port)
        _serve(api, self.port)  # first, so that a taken port leaves the folder as it was
        teardown.add(api.stop)
        shutil.rmtree(directory / "nodes", ignore_errors=True)  # the last sandbox's machines died with its API
        api.install_crds(CRDS)
        kubeconfig = write_kubeconfig(directory / "kubeconfig", api.url)
        os.environ["KUBECONFIG"] = str(kubeconfig)  # kopf's default login reads it
        ec2_url = ec2_emulator(teardown)
        (directory / "ec2-endpoint").write_text(ec2_url + "\n")
        # The ec2 target's default credential chain and endpoint lead to the sandbox's moto.
        os.environ.update(AWS_ENDPOINT_URL=ec2_url, AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox")
        create_targets(kubeconfig, sandbox_targets(ec2_url))
        operator = OperatorThread(kubeconfig=kubeconfig,
                                  options=Options(allow_local_target=True, local_root=directory / "nodes"))
        teardown.add(operator.stop)  # before start(): a stop while kopf starts cancels it
        operator.start()
        teardown.check()
        print(f"export KUBECONFIG={kubeconfig}", flush=True)
        print(f"# operator log: {directory / 'operator.log'}", file=sys.stderr, flush=True)
        if self.demo is not None:
            wait_until_ready(kubeconfig, [LOCAL_TARGET, EC2_TARGET])
            return run_demo(kubeconfig, self.demo)
        print("# sandbox running; Ctrl-C stops it", file=sys.stderr, flush=True)
        return 0


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
    0, as asked; an interrupted demo exits 128 + the signal's number, as a shell reports it. A signal
    that comes once the demo has ended, or once the start has failed, changes nothing of that."""
    directory = directory.resolve()
    with StopSignals() as stop:
        directory.mkdir(parents=True, exist_ok=True)
        with folder_lock(directory):
            _log_to(directory / "operator.log")  # the terminal is for the Task, the log file for the operator
            worker = Worker(directory, demo=demo, port=port, validation=validation, on_end=stop.wake)
            worker.start()
            while not stop.wait():  # False: woken by the worker's end (an idle sandbox's, once all is up)
                if worker.error is not None or (demo is not None and worker.ended.is_set()):
                    break
            ended_first = worker.ended.is_set()  # before the teardown, which ends a worker still running
            worker.teardown.run()
            worker.join(WORKER_STOP_SECONDS)  # a demo's watch ends with the API; a start with its stop
    if ended_first and worker.error is not None:
        raise worker.error
    if demo is None:
        return 0
    if ended_first:
        return worker.code
    received = stop.received or signal.SIGTERM  # set: only a signal ends the wait before the worker's end
    print(f"dtk-operator sandbox: {received.name} received; the demo did not finish, the sandbox stopped",
          file=sys.stderr, flush=True)
    return 128 + received
