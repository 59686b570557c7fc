"""One converge of a wide group, on one revision of the code, measured from outside (benchmark g).

Four processes: the API emulator, the counting proxy (benchkit.write_proxy), the operator of
the revision (talking to the API only through the proxy) and this client, which watches the
four kinds the operator writes directly on the emulator. Every process but this one runs the
revision's code (PYTHONPATH), so "before" and "after" differ only in what they run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchkit import shapes
from benchkit.kube import Kube, server_and_token
from benchkit.object_watch import KindFigures, Latest, ObjectWatch
from benchkit.processes import Child, wait_until
from benchkit.revisions import Revision
from dtk_api import resources as r
from dtk_api.task_status import TERMINAL_TASK_STATES

BENCH = Path(__file__).resolve().parents[1]
WATCHED = (r.TASK_PLURAL, r.SHARD_PLURAL, r.INSTANCE_PLURAL, r.NODE_SHARD_PLURAL)
START_SECONDS = 30.0  # emulator and proxy bind in about 1 s; the operator reports on the Assembly in 2-3 s
SETTLE_SECONDS = 120.0  # the instance's LAST RUN follows the Task's end within a second or two
SETTLE_POLL_SECONDS = 0.5  # a GET of a 1 MB instance (before, 5,000 members) is not free: poll slowly
QUIET_SECONDS = 2.0  # no write for this long after the end: the operator is done (finalizers, roll-ups)
QUIET_TIMEOUT_SECONDS = 60.0
ASSEMBLY, INSTANCE, STEP = "scale", "scale", "true"
PROXY_MODULE = "benchkit.write_proxy"


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    bytes: int
    status: int


@dataclass(frozen=True)
class Converge:
    """What one run gives before the plugin is timed: the Task as last seen, and the traffic."""

    task: dict[str, Any]
    created: float  # perf_counter when the create call returned
    ended_seen: float | None  # perf_counter when the terminal version was read; None: the deadline came first
    kinds: list[KindFigures]
    writes: list[Write]
    rows: list[dict[str, Any]]  # every row, the Task's and its shards' merged (dtk_api.sharding)
    operator_log_tail: str


def _start(workdir: Path, cleanup: ExitStack, rev: Revision) -> tuple[Path, Path, Child]:
    """Emulator, then proxy: (the emulator's kubeconfig, the proxy's kubeconfig, the proxy)."""
    kubeconfig = workdir / "kubeconfig"
    emulator = Child(module="dtk_sandbox.kubeapi", log=workdir / "kubeapi.log", env=rev.env,
                     args=["--port", "0", "--kubeconfig", str(kubeconfig), "--crds", str(rev.crds)]).start()
    cleanup.callback(emulator.stop)
    wait_until("the API emulator to serve", kubeconfig.exists, timeout=START_SECONDS, child=emulator)
    config = yaml.safe_load(kubeconfig.read_text())
    port_file = workdir / "proxy.port"
    proxy = Child(module=PROXY_MODULE, log=workdir / "proxy.out", env={"PYTHONPATH": str(BENCH)},
                  args=["--upstream-port", str(config["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1]),
                        "--port-file", str(port_file), "--log", str(workdir / "writes.jsonl")]).start()
    cleanup.callback(proxy.stop)
    wait_until("the proxy to listen", port_file.exists, timeout=START_SECONDS, child=proxy)
    config["clusters"][0]["cluster"]["server"] = f"http://127.0.0.1:{port_file.read_text().strip()}"
    proxied = workdir / "kubeconfig-proxied"
    proxied.write_text(yaml.safe_dump(config))
    return kubeconfig, proxied, proxy


def read_writes(log: Path) -> list[Write]:
    if not log.exists():
        return []
    return [Write(d["method"], d["path"], d["bytes"], d["status"])
            for d in map(json.loads, log.read_text().splitlines())]


def _wait_quiet(log: Path) -> None:
    """Until the proxy's log has not grown for QUIET_SECONDS (bounded)."""
    deadline, size, since = time.monotonic() + QUIET_TIMEOUT_SECONDS, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = log.stat().st_size if log.exists() else 0
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= QUIET_SECONDS:
            return
        time.sleep(0.2)


def _settle(kube: Kube) -> None:
    """The instance's LAST RUN shows the Task ended (the "before" code may never get there)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        last = ((kube.get(r.INSTANCE_PLURAL, INSTANCE) or {}).get("status") or {}).get("lastRun") or {}
        if last.get("state") in TERMINAL_TASK_STATES:
            return
        time.sleep(SETTLE_POLL_SECONDS)


def _rows(kube: Kube, task: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row: the Task's own, plus its TaskShards' when it has any (the "after" code)."""
    from dtk_api.sharding import merge  # the current code's merge reads both layouts

    status = task.get("status") or {}
    if not status.get("shards"):
        return list(status.get("steps") or [])
    shards = kube.list(r.SHARD_PLURAL)
    uid = task["metadata"]["uid"]
    mine = [s.get("steps") or [] for s in shards
            if any(o.get("uid") == uid for o in s["metadata"].get("ownerReferences") or [])]
    return merge(status.get("steps") or [], mine)


def _mine(latest: Latest) -> bool:
    labels = latest.body["metadata"].get("labels") or {}
    state = (latest.body.get("status") or {}).get("state")
    return labels.get(r.INSTANCE_LABEL) == INSTANCE and state in TERMINAL_TASK_STATES


def converge(rev: Revision, *, members: int, deadline: float, workdir: Path, namespace: str,
             cleanup: ExitStack) -> tuple[Converge, Path]:
    """Runs the converge to its end or `deadline` s; returns it and the emulator's kubeconfig. The
    emulator and the proxy stay up (until `cleanup` closes) for the plugin timings; the operator
    is stopped first, so nothing writes after the figures are read."""
    kubeconfig, proxied, _ = _start(workdir, cleanup, rev)
    kube = Kube(kubeconfig, namespace)
    kube.create_namespace()
    server, token = server_and_token(kubeconfig)
    host, port = server.removeprefix("http://").rsplit(":", 1)
    log = workdir / "writes.jsonl"
    with ObjectWatch(host=host, port=int(port), token=token, namespace=namespace, plurals=WATCHED) as watch:
        operator = Child(module="dtk_operator", log=workdir / "operator.log", env=rev.env,
                         args=["run", "-n", namespace, "--kubeconfig", str(proxied), "--allow-local-target",
                               "--local-root", str(workdir / "nodes"), "--metrics-port", "0"]).start()
        try:
            kube.create(r.ASSEMBLY_PLURAL, shapes.wide_group(ASSEMBLY, members=members, command=STEP))
            wait_until("the operator to report on the Assembly", lambda: bool(
                ((kube.get(r.ASSEMBLY_PLURAL, ASSEMBLY) or {}).get("status") or {}).get("observedGeneration")),
                timeout=START_SECONDS, child=operator)
            created = kube.create(r.INSTANCE_PLURAL, shapes.instance(INSTANCE, ASSEMBLY))
            ended = watch.wait_task(_mine, timeout=deadline)
            if ended is not None:
                _settle(kube)
            _wait_quiet(log)
        except Exception:  # not on Ctrl-C or SIGTERM: the log would only hide why the run stopped
            print(f"--- operator log (last lines) ---\n{operator.log_tail()}", file=sys.stderr)
            raise
        finally:
            operator.stop()
        last = ended or watch.newest_task()
        kinds = watch.figures()
    task = (kube.get(r.TASK_PLURAL, last.body["metadata"]["name"]) if last else None) or {}
    done = Converge(task=task, created=created, ended_seen=ended.at if ended else None, kinds=kinds,
                    writes=read_writes(log), rows=_rows(kube, task) if task else [],
                    operator_log_tail=operator.log_tail(15))
    return done, kubeconfig


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())
