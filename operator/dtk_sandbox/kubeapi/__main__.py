"""
Serve the Kubernetes API emulator in the foreground until interrupted (Ctrl+C or SIGTERM).

Example: python -m dtk_sandbox.kubeapi --port 8001 --kubeconfig ./kubeconfig --crds crds/
then:    kubectl --kubeconfig ./kubeconfig get dtk
"""
import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from dtk_sandbox.kubeapi.emulator import DEFAULT_NAMESPACES, KubeApiEmulator
from dtk_sandbox.kubeapi.kubeconfig import write_kubeconfig
from dtk_sandbox.kubeapi.serving import serving


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python -m dtk_sandbox.kubeapi', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--host', default='127.0.0.1', help='the address to listen on (default: %(default)s)')
    parser.add_argument('--port', type=int, default=0, help='the port; 0 picks a free one (default: %(default)s)')
    parser.add_argument('--kubeconfig', help='write a kubeconfig for the served API to this path')
    parser.add_argument('--namespace', default='default', help='the kubeconfig context namespace (created)')
    parser.add_argument('--crds', action='append', default=[], metavar='DIR',
                        help='install the CRDs of the YAML files in DIR (repeatable)')
    parser.add_argument('--no-validation', action='store_true',
                        help='store custom resources without schema checks (tests of bad-object defences only)')
    parser.add_argument('--verbose', '-v', action='store_true', help='log every request and failure')
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    # The context's namespace must exist: objects cannot be created in a missing one.
    emulator = KubeApiEmulator(namespaces=tuple(dict.fromkeys([*DEFAULT_NAMESPACES, args.namespace])),
                               validation=not args.no_validation)
    for directory in args.crds:
        names = emulator.install_crds(directory)
        print(f'Installed {len(names)} CRD(s) from {directory}: {", ".join(names) or "-"}', flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serving(emulator, host=args.host, port=args.port) as url:
        if args.kubeconfig:
            write_kubeconfig(args.kubeconfig, url, args.namespace)
            print(f'Kubeconfig written to {args.kubeconfig}', flush=True)
        print(f'Serving the Kubernetes API emulator at {url}', flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))
    return 0


if __name__ == '__main__':
    sys.exit(main())
