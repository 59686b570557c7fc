"""`dtk-operator run` (against a cluster) and `dtk-operator sandbox` (everything in one process)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dtk_operator import logs

# The same words as the README's; a test holds them together.
LOGIN_ORDER = ("It logs in with --kubeconfig FILE, else $KUBECONFIG, else the pod's service account when in a "
               "pod, else ~/.kube/config (controller-runtime's order).")
USAGE_ERROR = 2  # as argparse exits on bad flags: the command line or its files must change


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
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
    run.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: see above)")
    run.add_argument("--peering", default="", help="kopf peering name for HA (default: standalone)")
    run.add_argument("--liveness", default="", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz")
    run.add_argument("--metrics-port", type=int, default=9090, help="Prometheus /metrics port (0: none)")
    run.add_argument("-v", "--verbose", action="store_true")
    sandbox = commands.add_parser("sandbox", help="emulated Kubernetes API + EC2 + the operator, in one process")
    sandbox.add_argument("--demo", type=Path, metavar="FILE", help="apply FILE, stream its Task, exit with its outcome")
    sandbox.add_argument("--dir", type=Path, default=Path(".dtk-sandbox"), help="where the kubeconfig and nodes live")
    sandbox.add_argument("--port", type=_port, default=0, help="API emulator port (default: a free one)")
    sandbox.add_argument("--no-validation", action="store_true",
                         help="store custom resources without schema checks (only to test the operator's own "
                              "defences against bad objects; a real API server always validates)")
    sandbox.add_argument("-v", "--verbose", action="store_true")
    return parser


def _run(args: argparse.Namespace) -> int:
    from dtk_operator.kube.client import LoginError
    from dtk_operator.kube.login import resolve_kubeconfig

    try:
        kubeconfig = resolve_kubeconfig(args.kubeconfig)
    except LoginError as error:
        return _refuse("run", error)
    import kopf

    import dtk_operator.handlers
    import dtk_operator.settings  # noqa: F401
    from dtk_operator.engine.services import Options

    options = Options(allow_local_target=args.allow_local_target, local_root=args.local_root,
                      metrics_port=args.metrics_port)
    memo = kopf.Memo(options=options, kubeconfig=kubeconfig)  # the login handler reads it (handlers/login.py)
    kopf.run(
        clusterwide=not args.namespace, namespaces=args.namespace, memo=memo,
        standalone=not args.peering, peering_name=args.peering or None,
        liveness_endpoint=args.liveness or None,
    )
    return 0


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
    return _run(args) if args.command == "run" else _sandbox(args)


if __name__ == "__main__":
    sys.exit(main())
