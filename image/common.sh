# shellcheck shell=bash disable=SC2034  # (the scripts that source it use these)
# Names the image scripts share; sourced from the repo's root by image/build.sh and image/test-image.sh.
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml)
IMAGE="localhost/dtk-operator:$VERSION"
ARCHIVE="dist/dtk-operator-$VERSION.oci.tar"
CACHE="$PWD/.image-cache"      # ignored by git: base root filesystem, build context, buildah storage
CONTEXT="$CACHE/context"
VENV_PYTHON="$PWD/.venv/bin/python"
VENV_PIP="$PWD/.venv/bin/pip"
# buildah with storage of its own, under the project: vfs needs no kernel overlay support and
# leaves the machine's /var/lib/containers alone.
BUILDAH=(buildah --root "$CACHE/storage" --runroot "$CACHE/storage-run" --storage-driver vfs)
