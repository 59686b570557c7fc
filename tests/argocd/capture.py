"""Regenerates the Argo CD health checks' testdata from a real run (see capture_states.py).

    .venv/bin/python tests/argocd/capture.py            # every file
    .venv/bin/python tests/argocd/capture.py --list     # the names it writes, without running
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: `support`, as pytest's pythonpath has it


def main(argv: list[str] | None = None) -> int:
    import capture_states  # after the path above: it imports `support`

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="print where the captures go and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(str(capture_states.fixture_path(n)) for n in capture_states.EXPECTED_NAMES))
        return 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtk-argocd-capture-") as workdir, \
            capture_states.session(Path(workdir)) as session:
        captured = capture_states.run(session)
    missing = sorted(set(capture_states.EXPECTED_NAMES) - set(captured))
    if missing:
        print(f"not captured: {', '.join(missing)}", file=sys.stderr)
        return 1
    for name, body in sorted(captured.items()):
        print(capture_states.write_fixture(name, body))
    print(f"{len(captured)} objects captured in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
