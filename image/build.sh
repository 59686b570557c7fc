#!/usr/bin/env bash
# `make image`: build the dtk-operator image offline from the repo and write it as an OCI archive,
# dist/dtk-operator-VERSION.oci.tar, tagged localhost/dtk-operator:VERSION.
#
#   1. Debian's mmdebstrap, buildah and skopeo, installed with apt when missing.
#   2. The base root filesystem: mmdebstrap from the host's Debian sources (cached in
#      .image-cache/, keyed by everything that goes into it; the slow step, ~2 min cold).
#   3. The wheels: the project's, built from the work tree, and its `operator` extra's, fetched
#      with the dev virtualenv's pip and pinned to the versions installed there (the ones the
#      test suite runs), binary wheels only: nothing is compiled, and the build needs no index.
#   4. buildah bud --isolation chroot on Containerfile, with its own vfs storage in .image-cache/
#      (--layers: a warm build reuses every unchanged step).
#   5. buildah push to an oci-archive.
# Every step has a deadline. Usage: image/build.sh (from anywhere; run by `make image`).
set -euo pipefail
cd "$(dirname "$0")/.."
source image/common.sh

STARTED=$SECONDS
DEB_SUITE=bookworm  # its python3 is 3.11, the host's: the wheels fetched here fit it
DEB_PACKAGES=python3,ca-certificates,tini

log() { printf '==> %s\n' "$*" >&2; }

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
    options=(--variant=essential --include="$DEB_PACKAGES" --format=tar
             --aptopt='Acquire::Check-Valid-Until "false"'
             --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
             --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
             --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
             # No apt in the image (the hook's $1 is mmdebstrap's, hence single quotes): its sources (the mirror this host uses) and logs are not shipped.
             --customize-hook='rm -rf "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/* "$1"/var/log/*')
    key=$( { printf '%s\n' "$DEB_SUITE" "${options[@]}"; cat "${sources[@]}" /dev/null; } | sha256sum | cut -c1-16)
    rootfs="$CACHE/rootfs-$DEB_SUITE-$key.tar"
    if [ ! -f "$rootfs" ]; then
        log "base root filesystem: mmdebstrap $DEB_SUITE + $DEB_PACKAGES (cold: ~2 min)"
        rm -f "$CACHE"/rootfs-*.tar
        timeout 900 mmdebstrap --quiet "${options[@]}" "$DEB_SUITE" "$rootfs.partial" "${sources[@]}"
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
    # A copy, so the build writes nothing into the tree; -p keeps mtimes, so an unchanged tree
    # gives the same wheel and the install step stays cached.
    cp -rp pyproject.toml README.md operator kubectl-plugin "$src/"
    find "$src" -name __pycache__ -prune -exec rm -rf {} +
    timeout 300 "$VENV_PIP" wheel --quiet --no-deps --wheel-dir "$wheels" "$src"
    "$VENV_PYTHON" - >"$CACHE/requirements.txt" <<'EOF'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["operator"]))
EOF
    "$VENV_PIP" freeze --exclude-editable >"$CACHE/constraints.txt"
    timeout 600 "$VENV_PIP" download -qq --disable-pip-version-check --only-binary=:all: --dest "$wheels" \
        -r "$CACHE/requirements.txt" -c "$CACHE/constraints.txt" "pip==$("$VENV_PIP" --version | cut -d' ' -f2)"
}

build() {
    log "buildah bud --isolation chroot -> $IMAGE"
    cp Containerfile "$CONTEXT/Containerfile"
    timeout 900 "${BUILDAH[@]}" bud --quiet --isolation chroot --layers --pull=never \
        --build-arg VERSION="$VERSION" -f "$CONTEXT/Containerfile" -t "$IMAGE" "$CONTEXT" >/dev/null
}

export_archive() {
    log "oci-archive -> $ARCHIVE"
    mkdir -p "$(dirname "$ARCHIVE")"
    rm -f "$ARCHIVE.partial"
    timeout 300 "${BUILDAH[@]}" push --quiet "$IMAGE" "oci-archive:$ARCHIVE.partial:$IMAGE"
    mv "$ARCHIVE.partial" "$ARCHIVE"
}

[ -x "$VENV_PIP" ] || { echo "image/build.sh: no $VENV_PIP: run 'make install' first" >&2; exit 2; }
mkdir -p "$CACHE" "$CONTEXT"
install_tools
base_rootfs
wheels
build
export_archive
size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
printf 'image %s: %s, %s MB (%s unpacked), built in %d s\n' "$IMAGE" "$ARCHIVE" \
    "$(( $(stat -c %s "$ARCHIVE") / 1000000 ))" "$size" "$(( SECONDS - STARTED ))"
