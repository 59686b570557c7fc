"""`kubectl dtk`: DTK's task views (and vappio's describe-task) for kube-dtk, kubectl-style.

Commands register themselves from `kubectl_dtk.commands`; each gets the common kubectl flags.
Nothing heavy is imported here: a command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kubectl_dtk import exit_codes
from kubectl_dtk.api.context import Context
from kubectl_dtk.api.errors import ApiError, CommandError
from kubectl_dtk.commands import COMMANDS, modules_for


def common_flags(*, streams: bool = False) -> argparse.ArgumentParser:
    """The kubectl flags every command takes (a parent parser, so they work after the command)."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's)")
    flags.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace, where it makes sense")
    flags.add_argument("--context", dest="kube_context", help="kubeconfig context to use")
    flags.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    formats = ["table", "json", "yaml"] + (["jsonl"] if streams else [])
    flags.add_argument("-o", "--output", choices=formats, default="table", help="output format")
    flags.add_argument("--no-headers", action="store_true", help="tables without header and footer lines")
    flags.add_argument("--color", dest="color_choice", choices=["auto", "always", "never"], default="auto",
                       help="colour (auto: only on a terminal, and never with NO_COLOR set)")
    return flags


# What `kubectl dtk --help` tells a user (the module docstring above is for developers).
DESCRIPTION = """\
Deploy kube-dtk assemblies as service instances, run their workflows as Tasks, and follow a Task
stage by stage, as the DTK shell did. Works on the cluster of your kubeconfig, with kubectl's
flags (-n, -A, --context, --kubeconfig, -o) after any command."""
EPILOG = """\
examples:
  kubectl dtk list-assemblies
  kubectl dtk deploy cluster spark-cluster1 -s       create an instance and stream its first Task
  kubectl dtk task-status spark-cluster1 --wait      follow the latest Task until it ends
  kubectl dtk task-status spark-cluster1 -m stream   stage by stage (-o jsonl for machines)
  kubectl dtk exec spark-cluster1 load_dataset name=mar01    run a workflow (a new Task)

exit codes: 0 success, 1 the Task failed or was cancelled, 2 usage or API error,
3 --timeout reached, 4 not found.  `kubectl dtk COMMAND --help` tells more."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for `command` alone when it is known (fast), else for every command."""
    parser = argparse.ArgumentParser(prog="kubectl dtk", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands",
                                     help="the command, one of:")
    for module in modules_for(command):
        module.register(commands, common_flags)
    return parser


def command_parser(command: str) -> argparse.ArgumentParser | None:
    """The parser of one command alone (for completion); None for a command there is not."""
    if command not in COMMANDS:
        return None
    commands = argparse.ArgumentParser(add_help=False).add_subparsers()
    for module in modules_for(command):
        module.register(commands, common_flags)
    parser: argparse.ArgumentParser = commands.choices[command]
    return parser


def _context(args: argparse.Namespace) -> Context:
    return Context(namespace=args.namespace, all_namespaces=args.all_namespaces, kube_context=args.kube_context,
                   kubeconfig=args.kubeconfig, output=args.output, no_headers=args.no_headers,
                   color_choice=args.color_choice)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)  # usage errors exit 2, as argparse does
    ctx = _context(args)
    try:
        code: int = args.run(ctx, args)
        return code
    except CommandError as error:
        ctx.warn(f"error: {error}")
        return error.code
    except ApiError as error:
        ctx.warn(f"error: {error}")
        return exit_codes.NOT_FOUND if error.not_found else exit_codes.USAGE_OR_API
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
    except BrokenPipeError:  # `kubectl dtk ... | head`: the reader left; so do we, quietly
        sys.stderr.close()
        return exit_codes.OK


if __name__ == "__main__":
    sys.exit(main())
