"""The shared `main` of every benchmark script: run it, print its block, hand the figures to run_all."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from benchkit.report import Result, render, write_json


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C does, so every cleanup runs (operator, emulator, watch, temp dirs)."""
    raise SystemExit(128 + signum)


def main(benchmark: Callable[[], Result], description: str | None) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the result to this file (used by run_all)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    result = benchmark()
    print(render(result), flush=True)
    if args.json is not None:
        write_json(result, args.json)
    return 0


def run(benchmark: Callable[[], Result], description: str | None) -> None:
    sys.exit(main(benchmark, description))
