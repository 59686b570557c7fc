"""Builds the release archive krew installs `kubectl dtk` from (`make plugin-archive`), and with
`--manifest` writes plugins/dtk.yaml for it.

The archive holds two executables: `kubectl-dtk`, a Python zip application (PEP 441, the standard
library's zipapp) with the plugin, the `dtk_api` contract and the plugin's dependencies as this
virtualenv has them (pure Python: a zip cannot load C extensions, and PyYAML falls back to its
pure-Python loader); and `kubectl_complete-dtk`, a shell script that asks it for completions, as
cobra's plugins do. The user's `python3` (3.11 or later) runs it. The build is reproducible:
fixed times and owners, sorted entries, so the same tree gives the same sha256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata as metadata
import io
import os
import shutil
import sys
import tarfile
import tempfile
import zipapp
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "kube-dtk"
PLUGIN_DEPENDENCIES = ("PyYAML", "pykube-ng", "rich")  # pyproject's [plugin] extra, and PyYAML
SOURCES = (ROOT / "kubectl-plugin" / "kubectl_dtk", ROOT / "operator" / "dtk_api")
EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry
RELEASES = "https://github.com/kube-dtk/kube-dtk/releases/download"
MAIN = '''"""kubectl-dtk as one file: `__complete ...` answers Tab completion, anything else is a command."""
import sys

if sys.argv[1:2] == ["__complete"]:
    from kubectl_dtk.completion.main import main
else:
    from kubectl_dtk.cli import main
sys.exit(main())
'''
COMPLETE = '''#!/bin/sh
# kubectl (1.26+) runs kubectl_complete-dtk for `kubectl dtk ...<TAB>`; kubectl-dtk answers.
exec "$(dirname "$0")/kubectl-dtk" __complete "$@"
'''


def version() -> str:
    return metadata.version(DISTRIBUTION)


def archive_name() -> str:
    return f"kubectl-dtk-v{version()}.tar.gz"


def _closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The distributions named and everything they require (extras left out), each once."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(names)
    while pending:
        dist = metadata.distribution(pending.pop())
        key = dist.metadata["Name"].lower()
        if key in found:
            continue
        found[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return [found[key] for key in sorted(found)]


def _copy_dependency(dist: metadata.Distribution, into: Path) -> None:
    for file in dist.files or []:
        relative = Path(str(file))
        if relative.parts[0] == ".." or "__pycache__" in relative.parts or relative.suffix in (".so", ".pyd"):
            continue  # scripts outside site-packages, caches, C extensions (a zip cannot load them)
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(str(dist.locate_file(file))), target)


def _stage(into: Path) -> None:
    for source in SOURCES:
        shutil.copytree(source, into / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for dist in _closure(PLUGIN_DEPENDENCIES):
        _copy_dependency(dist, into)
    info = into / f"kube_dtk-{version()}.dist-info"  # `kubectl dtk version` reads it through importlib.metadata
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {version()}\n")
    (into / "__main__.py").write_text(MAIN)
    for path in into.rglob("*"):
        os.utime(path, (EPOCH, EPOCH))


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mtime, member.mode = len(data), EPOCH, 0o755
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    tar.addfile(member, io.BytesIO(data))


def build(out_dir: Path) -> Path:
    """The archive in `out_dir`; returns its path."""
    with tempfile.TemporaryDirectory(prefix="kubectl-dtk-build-") as tmp:
        staging, app = Path(tmp) / "app", Path(tmp) / "kubectl-dtk"
        _stage(staging)
        zipapp.create_archive(staging, app, interpreter="/usr/bin/env python3", compressed=True)
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
            _tar_member(tar, "kubectl-dtk", app.read_bytes())
            _tar_member(tar, "kubectl_complete-dtk", COMPLETE.encode())
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / archive_name()
    archive.write_bytes(buffer.getvalue())
    return archive


def manifest(sha256: str) -> str:
    """krew's Plugin manifest for this version's archive."""
    tag = f"v{version()}"
    return f"""\
# krew's plugin manifest for `kubectl dtk`, written by `make plugin-archive` (tools/plugin_archive.py)
# for the archive it builds; a release uploads that archive to the URI below.
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: dtk
spec:
  version: {tag}
  homepage: https://github.com/kube-dtk/kube-dtk
  shortDescription: Deploy multi-node assemblies and follow their Tasks
  description: |
    The kubectl plugin of kube-dtk: deploy Assemblies as ServiceInstances, run their workflows
    as Tasks, and follow a Task stage by stage as the DevOps Toolkit shell did (task-status,
    its live view, its stream, describe-task). Needs the kube-dtk operator in the cluster, and
    Python 3.11 or later as python3 on the machine running kubectl.
  caveats: |
    Tab completion (kubectl 1.26 or later) needs kubectl_complete-dtk on your PATH too; krew
    links only kubectl-dtk, so link it once:
      ln -s "${{KREW_ROOT:-$HOME/.krew}}/store/dtk/{tag}/kubectl_complete-dtk" "${{KREW_ROOT:-$HOME/.krew}}/bin/"
  platforms:
  - selector:
      matchExpressions:
      - {{key: os, operator: In, values: [linux, darwin]}}
    uri: {RELEASES}/{tag}/{archive_name()}
    sha256: {sha256}
    files:
    - {{from: kubectl-dtk, to: .}}
    - {{from: kubectl_complete-dtk, to: .}}
    bin: kubectl-dtk
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the archive goes (default: dist/)")
    parser.add_argument("--manifest", type=Path, help="also write krew's manifest for it here (plugins/dtk.yaml)")
    args = parser.parse_args(argv)
    archive = build(args.out)
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    if args.manifest:
        args.manifest.write_text(manifest(sha256))
    print(f"{archive} {sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
