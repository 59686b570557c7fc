"""One git revision of the project's code, exported to a directory, to run a benchmark against.

`git archive` rather than the working tree or a worktree: other people edit the working tree
while a long benchmark runs (a half-saved file must not reach the operator), and an export
leaves no trace in the repository. Processes run it through PYTHONPATH, which comes before the
virtualenv's editable install of the working tree on sys.path.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GIT_TIMEOUT_SECONDS = 60.0
CODE_DIRS = ("operator", "kubectl-plugin", "crds")


@dataclass(frozen=True)
class Revision:
    label: str  # "before", "after"
    commit: str  # full hash
    root: Path  # where it was exported

    @property
    def crds(self) -> Path:
        return self.root / "crds"

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": f"{self.root / 'operator'}:{self.root / 'kubectl-plugin'}"}

    @property
    def short(self) -> str:
        return self.commit[:7]


def _git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, check=True,
                          timeout=GIT_TIMEOUT_SECONDS).stdout


def export(label: str, rev: str, into: Path) -> Revision:
    """The code of `rev` (operator, plugin, CRDs) under `into`/`label`."""
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
    root = into / label
    root.mkdir(parents=True)
    archive = _git("archive", "--format=tar", commit, *CODE_DIRS)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return Revision(label=label, commit=commit, root=root)
