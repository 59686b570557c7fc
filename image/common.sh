# shellcheck shell=bash disable=SC2034  # (the scripts that source it use these)
# Names the image scripts share; sourced from the repo's root by image/build.sh and image/test-image.sh.
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml)
IMAGE="localhost/dtk-operator:$VERSION"
ARCHIVE="dist/dtk-operator-$VERSION.oci.tar"
CACHE="$PWD/.image-cache"      # ignored by git: base root filesystem, build context, buildah storage
CONTEXT="$CACHE/context"
VENV_PYTHON="$PWD/.venv/bin/python"
VENV_PIP="$PWD/.venv/bin/pip"

# buildah with storage of its own under ROOT (so the machine's /var/lib/containers is left alone):
# overlay where the kernel mounts it (layers shared, not copied), else vfs (copies every layer:
# slower, works anywhere). A storage keeps the driver it was made with, hence one folder each.
buildah_in() {
    local root=$1 driver
    for driver in overlay vfs; do
        BUILDAH=(buildah --root "$root/$driver" --runroot "$root/$driver-run" --storage-driver "$driver")
        "${BUILDAH[@]}" info >/dev/null 2>&1 && return 0
    done
    echo "buildah cannot use an overlay or vfs storage under $root" >&2
    return 1
}
