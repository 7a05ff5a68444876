#!/bin/bash
# Re-records fixtures/cassettes/status-healthy.json and status-daemon-quit.json: the Docker API
# traffic of `kindmps-api status --name N --json` against a real 2-node cluster (control-plane +
# one worker) made by the project's stand-in kind with the MPS emulator as the host's "driver",
# once healthy and once after `kindmps-api mps --node N-worker quit` (stale socket, no daemon).
# Rerunnable: a fresh cluster name (scrubbed in the cassettes to a fixed one of the same length),
# the cluster is deleted at the end (also on failure), the cassettes are overwritten.
# See docs/fixtures.md.
#   tools/recorder/record-status.sh [BUILD_DIR]        (default: build; needs root for mknod)
# Env: DOCKER_SOCK (default /var/run/docker.sock), KMPS_TEST_IMAGE (default kmps-test:busybox),
#      OUT_DIR (default fixtures/cassettes)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
docker_sock=${DOCKER_SOCK:-/var/run/docker.sock}
out_dir=${OUT_DIR:-fixtures/cassettes}
recorder=$build/tools/recorder/kmps-recorder
cli=$build/src/cli/kindmps-api
kind=$build/tools/fake-kind/kind
emu=$build/tools/mps-emu
for f in "$recorder" "$cli" "$kind" "$emu/nvidia-cuda-mps-control"; do
  [ -x "$f" ] || { echo "record: $f missing; build first (cmake --build $build)" >&2; exit 1; }
done
tools/setup-docker.sh >/dev/null

# kmpsrec-<8 random hex> has the length of the stable name kmpsrec-status00.
name=kmpsrec-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
stable=kmpsrec-status00
work=$(mktemp -d /tmp/kmps-record-status-XXXXXX)
export KMPS_STATE_DIR=$work/state
export KMPS_FAKE_KIND_IMAGE=${KMPS_TEST_IMAGE:-kmps-test:busybox}
export DOCKER_HOST=unix://$docker_sock
rec_pid=

cleanup() {
  [ -n "$rec_pid" ] && kill -INT "$rec_pid" 2>/dev/null && wait "$rec_pid" || true
  "$kind" delete cluster --name "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

host=$(tools/make-fake-host.sh "$work/host" "$emu")
"$cli" up --name "$name" --workers 1 --driver-root "$host" --dev-root "$host" --kind "$kind" --json \
  >"$work/up.json" 2>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }

# record OUT DESCRIPTION WANT_EXIT: one `status --json` through the recorder.
record() {
  local out=$1 description=$2 want=$3 sock=$work/rec.sock rc=0
  "$recorder" --listen "$sock" --upstream "$docker_sock" --out "$out" --scrub "$name=$stable" \
    --description "$description" &
  rec_pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  [ -S "$sock" ] || { echo "record: kmps-recorder did not listen on $sock" >&2; exit 1; }
  DOCKER_HOST=unix://$sock "$cli" status --name "$name" --json >"$work/status.json" || rc=$?
  kill -INT "$rec_pid"
  wait "$rec_pid"
  rec_pid=
  if [ "$rc" != "$want" ]; then
    echo "record: status exited $rc, wanted $want:" >&2
    cat "$work/status.json" >&2
    exit 1
  fi
  echo "record: wrote $out (status exit $rc)"
}

common="Docker 20.10 (API 1.41); cluster $stable (control-plane + worker, kmps-test:busybox nodes made by tools/fake-kind/kind, MPS emulator mounted from a fake host tree) after kindmps-api up"
record "$out_dir/status-healthy.json" \
  "$common: the traffic of 'kindmps-api status --name $stable --json' (healthy; node reads run in parallel, so interactions of the two nodes interleave). Recorded by tools/recorder/record-status.sh." 0

"$cli" mps --name "$name" --node "$name-worker" quit >/dev/null
record "$out_dir/status-daemon-quit.json" \
  "$common and 'kindmps-api mps --node $stable-worker quit': the traffic of 'kindmps-api status --name $stable --json' (unhealthy: the worker keeps a stale control socket but runs no daemon). Recorded by tools/recorder/record-status.sh." 1

"$cli" down --name "$name" --kind "$kind" >/dev/null 2>"$work/down.log" || { cat "$work/down.log" >&2; exit 1; }
