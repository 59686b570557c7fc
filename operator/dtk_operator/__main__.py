"""`dtk-operator run` (against a cluster) and `dtk-operator sandbox` (everything in one process)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

from dtk_operator import hardening, logs
from dtk_operator.kube.leases import DEFAULT_LEASE_NAME, Election, Timing
from dtk_operator.targets.local import DEFAULT_LOCAL_MAX_PROCESSES

# The same words as the README's; a test holds them together.
# Where a Target's credentials Secret is by default outside a pod (in a pod: the pod's namespace).
DEFAULT_OPERATOR_NAMESPACE = "dtk-system"
LOGIN_ORDER = ("It logs in with --kubeconfig FILE, else $KUBECONFIG, else the pod's service account when in a "
               "pod, else ~/.kube/config (controller-runtime's order).")
ELECTION = ("With --leader-elect, replicas share one Lease: the one holding it runs everything, the others "
            "stand by and take over when it stops renewing (--lease-duration after its last renewal) or "
            "releases it on SIGTERM. The timings are controller-runtime's; change them only for tests.")
USAGE_ERROR = 2  # as argparse exits on bad flags: the command line or its files must change


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return int(text)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dtk-operator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator against a cluster",
                              description=f"Run the operator against a cluster. {LOGIN_ORDER}")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace (default)")
    scope.add_argument("-n", "--namespace", action="append", default=[], help="watch this namespace (repeatable)")
    run.add_argument("--allow-local-target", action="store_true",
                     help="accept the `local` target, which runs steps as processes on this host")
    run.add_argument("--local-root", type=Path, default=Path(os.environ.get("DTK_LOCAL_ROOT", "/tmp/dtk-local")),
                     help="directory holding the local target's node sandboxes")
    run.add_argument("--local-max-processes", type=_positive_int, default=DEFAULT_LOCAL_MAX_PROCESSES, metavar="N",
                     help="step processes the local target runs at once, over all Tasks (default: "
                          f"{DEFAULT_LOCAL_MAX_PROCESSES}): a 5,000-member stage runs in waves instead of "
                          "forking 5,000 processes, and a row waiting for its turn is not shown executing")
    run.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: see above)")
    run.add_argument("--operator-namespace", metavar="NS", default="",
                     help="where a Target's credentials Secret is when it names no namespace (default: this pod's "
                          f"namespace in a cluster, else {DEFAULT_OPERATOR_NAMESPACE})")
    run.add_argument("--peering", default="", help="kopf peering name for HA (default: standalone)")
    run.add_argument("--liveness", default="", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz")
    run.add_argument("--metrics-port", type=int, default=9090, help="Prometheus /metrics port (0: none)")
    run.add_argument("-v", "--verbose", action="store_true")
    _election_flags(run)
    sandbox = commands.add_parser("sandbox", help="emulated Kubernetes API + EC2 + the operator, in one process")
    sandbox.add_argument("--demo", type=Path, metavar="FILE", help="apply FILE, stream its Task, exit with its outcome")
    sandbox.add_argument("--dir", type=Path, default=Path(".dtk-sandbox"), help="where the kubeconfig and nodes live")
    sandbox.add_argument("--port", type=_port, default=0, help="API emulator port (default: a free one)")
    sandbox.add_argument("--no-validation", action="store_true",
                         help="store custom resources without schema checks (only to test the operator's own "
                              "defences against bad objects; a real API server always validates)")
    sandbox.add_argument("-v", "--verbose", action="store_true")
    return parser


class ElectionError(ValueError):
    """Leader-election flags that cannot work together: the command line must change."""


def _identity() -> str:
    """$POD_NAME (the chart sets it), else this host's name and a random suffix, as client-go's examples:
    two processes on one machine must never share an identity."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:10]}"


def _election_flags(run: argparse.ArgumentParser) -> None:
    group = run.add_argument_group("leader election (for more than one replica)", ELECTION)
    group.add_argument("--leader-elect", action="store_true",
                       help="hold a coordination.k8s.io/v1 Lease before handling anything; stand by while "
                            "another replica holds it")
    group.add_argument("--lease-name", metavar="NAME", help=f"the Lease's name (default: {DEFAULT_LEASE_NAME})")
    group.add_argument("--lease-namespace", metavar="NAMESPACE",
                       help="the Lease's namespace (default: $POD_NAMESPACE, else the kubeconfig context's "
                            "namespace or in a pod its service account's, else default)")
    default = Timing()
    group.add_argument("--lease-duration", type=int, metavar="SECONDS",
                       help=f"how long a standby waits on a Lease nobody renews before taking it "
                            f"(default: {default.lease_duration})")
    group.add_argument("--renew-deadline", type=float, metavar="SECONDS",
                       help=f"how long a leader tries to renew before it kills its steps and exits with code 3 "
                            f"(default: {default.renew_deadline:g})")
    group.add_argument("--retry-period", type=float, metavar="SECONDS",
                       help=f"between two checks or renewals (default: {default.retry_period:g})")


def _election(args: argparse.Namespace, kubeconfig: str | None) -> Election | None:
    """The election asked for, with the defaults filled in; None without --leader-elect."""
    tuned = {"lease_duration": args.lease_duration, "renew_deadline": args.renew_deadline,
             "retry_period": args.retry_period}
    named = (args.lease_name, args.lease_namespace)
    if not args.leader_elect:
        if any(v is not None for v in (*named, *tuned.values())):
            raise ElectionError("--lease-name, --lease-namespace, --lease-duration, --renew-deadline and "
                                "--retry-period need --leader-elect")
        return None
    if args.peering:
        raise ElectionError("--peering (kopf's peering) and --leader-elect exclude each other: use --leader-elect")
    timing = Timing(**{k: v for k, v in tuned.items() if v is not None})
    problem = timing.problem()
    if problem:
        raise ElectionError(problem)
    from dtk_operator.kube.login import context_namespace

    namespace = args.lease_namespace or os.environ.get("POD_NAMESPACE") or context_namespace(kubeconfig) \
        or "default"
    return Election(namespace=namespace, name=args.lease_name or DEFAULT_LEASE_NAME, identity=_identity(),
                    timing=timing)


def _run(args: argparse.Namespace) -> int:
    from dtk_operator.kube.client import LoginError
    from dtk_operator.kube.login import pod_namespace, resolve_kubeconfig

    try:
        kubeconfig = resolve_kubeconfig(args.kubeconfig)
        election = _election(args, kubeconfig)
    except (LoginError, ElectionError) as error:
        return _refuse("run", error)
    import kopf

    import dtk_operator.handlers
    import dtk_operator.settings  # noqa: F401
    from dtk_operator.engine.services import Options

    options = Options(allow_local_target=args.allow_local_target, local_root=args.local_root,
                      local_max_processes=args.local_max_processes, metrics_port=args.metrics_port,
                      operator_namespace=args.operator_namespace or pod_namespace() or DEFAULT_OPERATOR_NAMESPACE,
                      namespaces=tuple(dict.fromkeys(args.namespace)))
    memo = kopf.Memo(options=options, kubeconfig=kubeconfig)  # the login handler reads it (handlers/login.py)
    if election is not None:
        return _run_elected(args, election, memo)
    return _run_alone(args, memo)


def _run_alone(args: argparse.Namespace, memo: Any) -> int:
    """kopf in a thread of its own, the main thread waiting for SIGTERM/SIGINT (kopf_thread.py says why)."""
    import kopf

    from dtk_operator.kopf_thread import KOPF_STOP_SECONDS, run_until_stopped
    from dtk_operator.stop_signals import StopSignals

    async def operate() -> None:
        await kopf.operator(clusterwide=not args.namespace, namespaces=args.namespace, memo=memo,
                            standalone=not args.peering, peering_name=args.peering or None,
                            liveness_endpoint=args.liveness or None)

    with StopSignals() as stop:
        error = run_until_stopped(operate, stop, stop_seconds=KOPF_STOP_SECONDS)
    if error is not None:  # kopf ended on its own, failing: raised, as kopf.run would
        raise error
    return 0


def _run_elected(args: argparse.Namespace, election: Election, memo: Any) -> int:
    """kopf (always standalone: no peering) runs only while this process holds the Lease."""
    import kopf

    from dtk_operator.kube.client import api_client_from
    from dtk_operator.kube.lease_api import LeaseApi
    from dtk_operator.leadership import run_elected
    from dtk_operator.metrics import Metrics

    metrics = memo.metrics = Metrics()  # served by this process from the start, standby included
    if args.metrics_port:
        metrics.serve(args.metrics_port)
    lease = f"{election.namespace}/{election.name}"
    metrics.leader.labels(lease).set(0)

    async def operate() -> None:
        await kopf.operator(clusterwide=not args.namespace, namespaces=args.namespace, memo=memo, standalone=True,
                            liveness_endpoint=args.liveness or None)

    api = LeaseApi(api_client_from(memo.kubeconfig), election.namespace, election.name)
    return run_elected(election, api, operate=operate, liveness=args.liveness,
                       leading=lambda leads: metrics.leader.labels(lease).set(int(leads)))


def _sandbox(args: argparse.Namespace) -> int:
    from dtk_sandbox.demo import DemoError, load_demo
    from dtk_sandbox.sandbox import SandboxError, run_sandbox

    try:
        demo = None if args.demo is None else load_demo(args.demo)  # before anything starts or is written
        return run_sandbox(demo=demo, directory=args.dir, port=args.port, validation=not args.no_validation)
    except (DemoError, SandboxError) as error:
        return _refuse("sandbox", error)


def _refuse(command: str, error: Exception) -> int:
    """One line on stderr, no traceback: the user's mistake, not ours."""
    print(f"dtk-operator {command}: {error}", file=sys.stderr, flush=True)
    return USAGE_ERROR


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(verbose=args.verbose)
    hardening.make_undumpable()  # before anything is read or any step can start (hardening.py says why)
    return _run(args) if args.command == "run" else _sandbox(args)


if __name__ == "__main__":
    sys.exit(main())
