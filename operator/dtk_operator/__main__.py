"""`dtk-operator run` (against a cluster) and `dtk-operator sandbox` (everything in one process)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dtk_operator import logs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dtk-operator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator against the current kubeconfig or in-cluster")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace (default)")
    scope.add_argument("-n", "--namespace", action="append", default=[], help="watch this namespace (repeatable)")
    run.add_argument("--allow-local-target", action="store_true",
                     help="accept the `local` target, which runs steps as processes on this host")
    run.add_argument("--local-root", type=Path, default=Path(os.environ.get("DTK_LOCAL_ROOT", "/tmp/dtk-local")),
                     help="directory holding the local target's node sandboxes")
    run.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"), help="kubeconfig file (default: in-cluster)")
    run.add_argument("--peering", default="", help="kopf peering name for HA (default: standalone)")
    run.add_argument("--liveness", default="", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz")
    run.add_argument("--metrics-port", type=int, default=9090, help="Prometheus /metrics port (0: none)")
    run.add_argument("-v", "--verbose", action="store_true")
    sandbox = commands.add_parser("sandbox", help="emulated Kubernetes API + EC2 + the operator, in one process")
    sandbox.add_argument("--demo", type=Path, help="apply FILE, stream its Task, exit with its outcome")
    sandbox.add_argument("--dir", type=Path, default=Path(".dtk-sandbox"), help="where the kubeconfig and nodes live")
    sandbox.add_argument("--port", type=int, default=0, help="API emulator port (default: a free one)")
    sandbox.add_argument("--no-validation", action="store_true",
                         help="store custom resources without schema checks (only to test the operator's own "
                              "defences against bad objects; a real API server always validates)")
    sandbox.add_argument("-v", "--verbose", action="store_true")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.kubeconfig:
        # Before any import of the kubernetes client: it reads $KUBECONFIG once, at import time.
        os.environ["KUBECONFIG"] = args.kubeconfig
    import kopf

    import dtk_operator.handlers
    import dtk_operator.settings  # noqa: F401
    from dtk_operator.engine.services import Options

    options = Options(allow_local_target=args.allow_local_target, local_root=args.local_root,
                      metrics_port=args.metrics_port)
    memo = kopf.Memo(options=options, kubeconfig=args.kubeconfig)
    kopf.run(
        clusterwide=not args.namespace, namespaces=args.namespace, memo=memo,
        standalone=not args.peering, peering_name=args.peering or None,
        liveness_endpoint=args.liveness or None,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(verbose=args.verbose)
    if args.command == "run":
        return _run(args)
    from dtk_sandbox.sandbox import run_sandbox

    return run_sandbox(demo=args.demo, directory=args.dir, port=args.port, validation=not args.no_validation)


if __name__ == "__main__":
    sys.exit(main())
