#!/usr/bin/env bash
# `make image-test`: the operator, run from the built OCI archive, converges the spark example
# against the sandbox's Kubernetes API emulator on this host.
#
#   1. The archive's own config, read with skopeo: user 65532, `dtk-operator run` as entrypoint.
#   2. The archive imported into a buildah storage of this run's own (so nothing but the archive
#      is tested), then inside it: the UID, and that no sandbox, plugin or test package is there.
#   3. The API emulator on the host (`python -m dtk_sandbox.kubeapi`, CRDs installed).
#   4. The image's entrypoint with `--kubeconfig` (the emulator's, mounted read-only) and
#      `--allow-local-target`, under `buildah run --isolation chroot`, which shares the host's
#      network; its liveness endpoint must answer.
#   5. examples/spark-cluster.yaml created with kubectl; `kubectl dtk task-status -m stream`
#      follows its Task, which must succeed; the Task's state and the operator's metrics agree.
#   6. SIGTERM: the operator must stop within its deadline. Everything started here is stopped
#      and removed on every exit.
# Every wait has a deadline. Usage: image/test-image.sh [ARCHIVE] (run by `make image-test`).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source image/common.sh
ARCHIVE=${1:-$ARCHIVE}
STARTED=$SECONDS
INSTANCE=spark-cluster1
TASK_TIMEOUT=300          # seconds for the Task; it takes ~10 s on the sandbox (2 cores)
KUBECTL_DTK="$PWD/.venv/bin/kubectl-dtk"
CONTAINER=dtk-image-test

log() { printf '==> %s\n' "$*" >&2; }
fail() {
    printf 'image-test: FAILED: %s\n' "$*" >&2
    for file in "$WORK/operator.log" "$WORK/api.log"; do
        [ -s "$file" ] && { printf -- '--- last lines of %s\n' "$(basename "$file")" >&2; tail -n 40 "$file" >&2; }
    done
    exit 1
}

# Polls COMMAND every half second until it succeeds; fails the test after SECONDS.
wait_for() {
    local what=$1 seconds=$2 deadline=$(( SECONDS + $2 ))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "$what: not within ${seconds} s"
        sleep 0.5
    done
}

http_ok() { "$VENV_PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }
free_port() { "$VENV_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Stops the process group (setsid) that PID leads: TERM, then KILL after SECONDS.
stop_group() {
    local pid=$1 seconds=$2 deadline=$(( SECONDS + $2 ))
    kill -TERM -- "-$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then kill -KILL -- "-$pid" 2>/dev/null; return 1; fi
        sleep 0.2
    done
}

API_PID='' OPERATOR_PID='' WORK=''
cleanup() {
    [ -n "$OPERATOR_PID" ] && { stop_group "$OPERATOR_PID" 10 || true; }
    [ -n "$API_PID" ] && { stop_group "$API_PID" 10 || true; }
    if [ -n "$WORK" ]; then
        [ -z "${TEST_BUILDAH+set}" ] || timeout 60 "${TEST_BUILDAH[@]}" rm "$CONTAINER" >/dev/null 2>&1 || true
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'fail "line $LINENO: exit status $?"' ERR

[ -f "$ARCHIVE" ] || { echo "image-test: no $ARCHIVE: run 'make image' first" >&2; exit 2; }
[ -x "$KUBECTL_DTK" ] || { echo "image-test: no $KUBECTL_DTK: run 'make install' first" >&2; exit 2; }
command -v kubectl >/dev/null || { echo "image-test: needs kubectl on PATH" >&2; exit 2; }
missing=()
for tool in buildah skopeo; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt)"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/test.XXXXXX")
buildah_in "$WORK/storage"
TEST_BUILDAH=("${BUILDAH[@]}")

log "the archive's config ($ARCHIVE)"
timeout 60 skopeo inspect --config "oci-archive:$ARCHIVE" >"$WORK/config.json"
"$VENV_PYTHON" - "$WORK/config.json" >"$WORK/entrypoint" <<'EOF' || fail "the image's config"
import json, sys
config = json.load(open(sys.argv[1]))["config"]
entrypoint = config.get("Entrypoint") or []
if config.get("User") != "65532:65532":
    sys.exit(f"the image's user is {config.get('User')!r}, not 65532:65532")
if entrypoint[-2:] != ["dtk-operator", "run"]:
    sys.exit(f"the image's entrypoint {entrypoint} does not end with dtk-operator run")
sys.stdout.write("\0".join(entrypoint) + "\0")
EOF
mapfile -d '' -t ENTRYPOINT <"$WORK/entrypoint"
[ ${#ENTRYPOINT[@]} -gt 0 ] || fail "the image's config has no entrypoint"

log "importing the archive into a storage of this test's own"
timeout 300 "${TEST_BUILDAH[@]}" from --quiet --name "$CONTAINER" "oci-archive:$ARCHIVE" >/dev/null
in_image() { timeout 120 "${TEST_BUILDAH[@]}" run --isolation chroot "$CONTAINER" -- "$@"; }
contents_check=$(cat <<'EOF'
import importlib.util, os, sys
import dtk_operator.__main__, dtk_operator.handlers, dtk_operator.settings  # what `run` imports
if (os.getuid(), os.getgid()) != (65532, 65532):
    sys.exit(f"runs as {os.getuid()}:{os.getgid()}, not 65532:65532")
extras = ["kmock", "moto", "flask", "cel", "pykube", "rich", "pytest", "mypy", "ruff", "pip", "dtk_sandbox"]
present = [name for name in extras if name in sys.modules or importlib.util.find_spec(name)]
# dtk_sandbox ships in the wheel (the `sandbox` command), but `run` must not import it.
present = [name for name in present if name != "dtk_sandbox" or name in sys.modules]
if present:
    sys.exit(f"the image has what only the sandbox, the plugin or the tests need: {present}")
print("in the image: uid 65532, the operator's modules import, no sandbox/plugin/test packages")
EOF
)
in_image /opt/dtk-operator/bin/python -c "$contents_check" || fail "the image's contents"

log "the API emulator on the host"
setsid "$VENV_PYTHON" -m dtk_sandbox.kubeapi --port 0 --kubeconfig "$WORK/kubeconfig" --crds crds \
    >"$WORK/api.log" 2>&1 &
API_PID=$!
wait_for "the API emulator's kubeconfig" 30 test -s "$WORK/kubeconfig"
wait_for "the API emulator" 30 kubectl --kubeconfig "$WORK/kubeconfig" get namespaces
chmod 0644 "$WORK/kubeconfig"  # read by the image's user, 65532, through the mount

METRICS_PORT=$(free_port)
LIVENESS_PORT=$(free_port)
log "the operator from the image: ${ENTRYPOINT[*]} --allow-local-target"
setsid "${TEST_BUILDAH[@]}" run --isolation chroot \
    --volume "$WORK/kubeconfig:/etc/dtk/kubeconfig:ro" "$CONTAINER" -- "${ENTRYPOINT[@]}" \
    --kubeconfig /etc/dtk/kubeconfig --allow-local-target \
    --metrics-port "$METRICS_PORT" --liveness "http://127.0.0.1:$LIVENESS_PORT/healthz" \
    >"$WORK/operator.log" 2>&1 &
OPERATOR_PID=$!
wait_for "the operator's liveness endpoint" 90 http_ok "http://127.0.0.1:$LIVENESS_PORT/healthz"
uids=$(ps -o uid= --sid "$OPERATOR_PID" | sort -u | tr -s ' \n' ' ')
log "processes of the operator's session by UID: $uids"
# shellcheck disable=SC2009  # (pgrep cannot select by session and print UIDs)
ps -o uid=,args= --sid "$OPERATOR_PID" | grep -Eq '^ *65532 +[^ ]*python[^ ]* [^ ]*dtk-operator run' \
    || fail "no dtk-operator process running as UID 65532"

log "creating examples/spark-cluster.yaml; following its Task"
kubectl --kubeconfig "$WORK/kubeconfig" create -f examples/spark-cluster.yaml
task_listed() { [ "$("$KUBECTL_DTK" list-tasks "$INSTANCE" --kubeconfig "$WORK/kubeconfig" --no-headers | wc -l)" -gt 0 ]; }
wait_for "the Task of $INSTANCE" 60 task_listed
rc=0
timeout $(( TASK_TIMEOUT + 30 )) "$KUBECTL_DTK" task-status "$INSTANCE" --kubeconfig "$WORK/kubeconfig" \
    -m stream --timeout "$TASK_TIMEOUT" || rc=$?
[ "$rc" -eq 0 ] || fail "kubectl dtk task-status exited $rc (1 failed, 3 timed out)"
state=$(kubectl --kubeconfig "$WORK/kubeconfig" get tasks.dtk.io -o jsonpath='{.items[*].status.state}')
[ "$state" = succeeded ] || fail "the Task's state is '$state', not succeeded"
"$VENV_PYTHON" - "http://127.0.0.1:$METRICS_PORT/metrics" <<'EOF' || fail "the operator's metrics"
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for family in text_string_to_metric_families(text) for s in family.samples}
if samples.get(("dtk_tasks_total", (("state", "succeeded"), ("workflow", "create")))) != 1:
    sys.exit("the metrics do not count one succeeded create Task")
EOF

log "SIGTERM to the operator"
stop_group "$OPERATOR_PID" 20 || fail "the operator did not stop within 20 s of SIGTERM"
OPERATOR_PID=

# The chart mounts the root filesystem read-only with an emptyDir on /tmp: the operator and the
# steps it ran must have written nowhere else (buildah writes its own /etc/hosts, hostname, resolv.conf).
written=$(timeout 120 "${TEST_BUILDAH[@]}" run --isolation chroot --volume "$WORK/kubeconfig:/etc/dtk/kubeconfig:ro" \
    "$CONTAINER" -- find / -xdev -newer /etc/dtk/kubeconfig \
    ! -path '/tmp/*' ! -path /tmp ! -path '/etc/dtk*' ! -path '/run*' ! -path '/dev*' \
    ! -path /etc ! -path /etc/hosts ! -path /etc/hostname ! -path /etc/resolv.conf ! -path / 2>/dev/null || true)
[ -z "$written" ] || fail "files written outside /tmp, where the chart's root filesystem is read-only: $written"
printf 'image-test: passed in %d s: %s ran as UID 65532 and converged %s (Task succeeded)\n' \
    "$(( SECONDS - STARTED ))" "$IMAGE" "$INSTANCE"
