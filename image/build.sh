#!/usr/bin/env bash
# `make image`: build the dtk-operator image offline from the repo and write it as an OCI archive,
# dist/dtk-operator-VERSION.oci.tar, tagged localhost/dtk-operator:VERSION.
#
#   1. Debian's mmdebstrap, buildah and skopeo, installed with apt when missing.
#   2. The base root filesystem: mmdebstrap from the host's Debian sources (cached in
#      .image-cache/, keyed by everything that goes into it; the slow step, ~1 min cold).
#   3. The wheels: the project's, built from the work tree, and its `operator` extra's, fetched
#      with the dev virtualenv's pip and pinned to the versions installed there (the ones the
#      test suite runs), binary wheels only: nothing is compiled, and the build needs no index.
#   4. buildah bud --isolation chroot on Containerfile, with a storage of its own in .image-cache/
#      (overlay, else vfs; --layers: a warm build reuses every unchanged step).
#   5. buildah push to an oci-archive.
# Every step has a deadline. Usage: image/build.sh (from anywhere; run by `make image`).
set -euo pipefail
cd "$(dirname "$0")/.."
source image/common.sh

STARTED=$SECONDS
DEB_SUITE=bookworm  # its python3 is 3.11, the host's: the wheels fetched here fit it
DEB_PACKAGES=python3,ca-certificates,tini

# Zip and file times of the build context: a constant, so an unchanged tree gives byte-identical
# wheels and a warm build reuses every cached step (buildah's --layers).
EPOCH=315532800  # 1980-01-01, the earliest time a zip holds

log() { printf '==> [%3d s] %s\n' "$(( SECONDS - STARTED ))" "$*" >&2; }

# Runs a step with its output in a log file, shown only when it fails.
quietly() {
    local name=$1
    shift
    "$@" >"$CACHE/$name.log" 2>&1 || { local rc=$?; tail -n 40 "$CACHE/$name.log" >&2; return "$rc"; }
}

install_tools() {
    local missing=()
    for tool in mmdebstrap buildah skopeo; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]} (apt)"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The host's enabled Debian sources for the suite; none: mmdebstrap's own default mirror.
debian_sources() {
    local file
    for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
        [ -f "$file" ] && grep -qv '^\s*#' "$file" && grep -q "$DEB_SUITE" "$file" && echo "$file"
    done
    return 0
}

base_rootfs() {
    local sources options key rootfs
    mapfile -t sources < <(debian_sources)
    # shellcheck disable=SC2016
    # merged-usr: /usr merged by symlinks, as debootstrap does; otherwise apt satisfies
    # init-system-helpers with usrmerge, which brings all of perl (~50 MB).
    options=(--variant=essential --include="$DEB_PACKAGES" --format=tar
             --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
             --aptopt='Acquire::Check-Valid-Until "false"'
             --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
             --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
             --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
             # No apt in the image, so neither its sources (this host's mirror) nor the logs ship.
             --customize-hook='rm -rf "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/* "$1"/var/log/*')
    key=$( { printf '%s\n' "$DEB_SUITE" "${options[@]}"; cat "${sources[@]}" /dev/null; } | sha256sum | cut -c1-16)
    rootfs="$CACHE/rootfs-$DEB_SUITE-$key.tar"
    if [ ! -f "$rootfs" ]; then
        log "base root filesystem: mmdebstrap $DEB_SUITE + $DEB_PACKAGES (~1 min)"
        rm -f "$CACHE"/rootfs-*.tar
        quietly mmdebstrap timeout 900 mmdebstrap "${options[@]}" "$DEB_SUITE" "$rootfs.partial" "${sources[@]}"
        mv "$rootfs.partial" "$rootfs"
    else
        log "base root filesystem: cached $(basename "$rootfs")"
    fi
    ln -f "$rootfs" "$CONTEXT/rootfs.tar" 2>/dev/null || cp "$rootfs" "$CONTEXT/rootfs.tar"
}

wheels() {
    local src="$CACHE/src" wheels="$CONTEXT/wheels"
    log "wheels: kube-dtk $VERSION from the work tree, its [operator] extra, pip"
    rm -rf "$src" "$wheels" && mkdir -p "$src" "$wheels"
    # A copy, so the build writes nothing into the tree.
    cp -r pyproject.toml README.md operator kubectl-plugin "$src/"
    find "$src" -name __pycache__ -prune -exec rm -rf {} +
    SOURCE_DATE_EPOCH=$EPOCH timeout 300 "$VENV_PIP" wheel --quiet --no-deps --wheel-dir "$wheels" "$src"
    "$VENV_PYTHON" - >"$CACHE/requirements.txt" <<'EOF'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["operator"]))
EOF
    "$VENV_PIP" freeze --exclude-editable >"$CACHE/constraints.txt"
    timeout 600 "$VENV_PIP" download -qq --disable-pip-version-check --only-binary=:all: --dest "$wheels" \
        -r "$CACHE/requirements.txt" -c "$CACHE/constraints.txt" "pip==$("$VENV_PIP" --version | cut -d' ' -f2)"
    find "$wheels" -exec touch -h -d "@$EPOCH" {} +
}

build() {
    log "buildah bud --isolation chroot -> $IMAGE"
    cp Containerfile "$CONTEXT/Containerfile"
    quietly bud timeout 900 "${BUILDAH[@]}" bud --isolation chroot --layers --pull=never \
        --build-arg VERSION="$VERSION" -f "$CONTEXT/Containerfile" -t "$IMAGE" "$CONTEXT"
}

export_archive() {
    log "oci-archive -> $ARCHIVE"
    mkdir -p "$(dirname "$ARCHIVE")"
    rm -f "$ARCHIVE.partial"
    quietly push timeout 300 "${BUILDAH[@]}" push "$IMAGE" "oci-archive:$ARCHIVE.partial:$IMAGE"
    mv "$ARCHIVE.partial" "$ARCHIVE"
}

[ -x "$VENV_PIP" ] || { echo "image/build.sh: no $VENV_PIP: run 'make install' first" >&2; exit 2; }
mkdir -p "$CACHE" "$CONTEXT"
install_tools
buildah_in "$CACHE/storage"
base_rootfs
wheels
build
export_archive
size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
printf 'image %s: %s, %s MB (%s unpacked), built in %d s (%s storage)\n' "$IMAGE" "$ARCHIVE" \
    "$(( $(stat -c %s "$ARCHIVE") / 1000000 ))" "$size" "$(( SECONDS - STARTED ))" "${BUILDAH[6]}"
