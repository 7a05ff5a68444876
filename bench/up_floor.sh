#!/bin/bash
# `up` and `status` against the floor: one parallel round of one exec per node, sent with plain
# curl on the Docker socket (exec create, start with the stream read to its end, inspect), on a
# 5-node cluster (control-plane + 4 GPU workers) made with the project's stand-in kind and the MPS
# emulator. Ratios to the floor measured in the same run, interleaved:
#   fresh up, our share (timings.oursMs of `up --recreate`)   target <= 2.0
#   an up that finds the cluster healthy (whole process)      target <= 1.2
#   status (whole process)                                    target <= 1.1
# and the peak RSS of up and status (target <= 16 MiB).
#   bench/up_floor.sh [BUILD_DIR] [RUNS]     (defaults: build, 9; needs root for mknod)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
runs=${2:-9}
cli=$build/src/cli/kindmps-api
kind=$build/tools/fake-kind/kind
emu=$build/tools/mps-emu
sock=/var/run/docker.sock
[ -x "$cli" ] || { echo "up_floor: $cli not built (cmake --build $build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "up_floor: /usr/bin/time not found (apt-get install time)" >&2; exit 3; }
curl -s --max-time 3 --unix-socket $sock http://localhost/_ping | grep -q OK ||
  { echo "up_floor: no Docker engine at $sock (tools/setup-docker.sh)" >&2; exit 3; }

name=kmps-bench-floor-$$
work=$(mktemp -d /tmp/kmps-bench-floor.XXXXXX)
export KMPS_STATE_DIR=$work/state
export KMPS_FAKE_KIND_IMAGE=${KMPS_TEST_IMAGE:-kmps-test:busybox}
cleanup() {
  "$cli" down --name "$name" --kind "$kind" >/dev/null 2>&1 || "$kind" delete cluster --name "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
host=$(tools/make-fake-host.sh "$work/host" "$emu")
printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\ngpuNodes: [worker]\n' >"$work/kindmps.yaml"
up_flags=(--config "$work/kindmps.yaml" --name "$name" --workers 4 --driver-root "$host" --dev-root "$host" --kind "$kind")
"$cli" up "${up_flags[@]}" --json >/dev/null 2>&1
mapfile -t nodes < <(curl -s --unix-socket $sock -G "http://localhost/containers/json" \
  --data-urlencode "filters={\"label\":[\"io.x-k8s.kind.cluster=$name\"]}" |
  /usr/bin/python3 -c 'import json,sys; print("\n".join(sorted(c["Names"][0][1:] for c in json.load(sys.stdin))))')
[ "${#nodes[@]}" = 5 ] || { echo "up_floor: expected 5 nodes, got ${#nodes[@]}" >&2; exit 1; }

one_exec() {
  local id
  id=$(curl -s --unix-socket $sock -H 'Content-Type: application/json' \
    -d '{"Cmd":["true"],"AttachStdout":true,"AttachStderr":true}' "http://localhost/v1.41/containers/$1/exec" |
    sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
  curl -s --unix-socket $sock -H 'Content-Type: application/json' -d '{"Detach":false,"Tty":false}' \
    "http://localhost/v1.41/exec/$id/start" >/dev/null
  curl -s --unix-socket $sock "http://localhost/v1.41/exec/$id/json" >/dev/null
}
floor() {
  for n in "${nodes[@]}"; do one_exec "$n" & done
  wait
}
us() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
fresh_ours() {  # our share of an up that recreates the cluster, in microseconds
  "$cli" up "${up_flags[@]}" --recreate --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["timings"]["oursMs"] * 1000))'
}
floor >/dev/null; "$cli" status --name "$name" >/dev/null
f=(); fresh=(); again=(); st=()
for i in $(seq "$runs"); do
  if (( i % 2 )); then
    f+=("$(us floor)"); again+=("$(us "$cli" up "${up_flags[@]}" --json)"); st+=("$(us "$cli" status --name "$name" --json)")
  else
    st+=("$(us "$cli" status --name "$name" --json)"); again+=("$(us "$cli" up "${up_flags[@]}" --json)"); f+=("$(us floor)")
  fi
done
fresh_runs=$(( (runs + 2) / 3 ))
for _ in $(seq "$fresh_runs"); do fresh+=("$(fresh_ours)"); f+=("$(us floor)"); done
rss() {
  local max=0 v
  for _ in 1 2 3; do
    /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1
    v=$(tail -1 "$work/rss"); (( v > max )) && max=$v
  done
  echo "$max"
}
rss_up=$(rss "$cli" up "${up_flags[@]}" --json); rss_status=$(rss "$cli" status --name "$name" --json)

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
mf=$(median "${f[@]}"); mfresh=$(median "${fresh[@]}"); magain=$(median "${again[@]}"); mst=$(median "${st[@]}")
echo "cluster $name: 5 nodes (control-plane + 4 GPU workers); medians of ${#f[@]} floor, $runs up/status and $fresh_runs fresh-up runs, ms"
printf '%-58s %8s %7s %7s\n' measurement median ratio target
printf '%-58s %8s\n' "floor: one exec per node in parallel (curl on the socket)" "$mf"
awk -v a="$mfresh" -v f="$mf" 'BEGIN {printf "%-58s %8.1f %7.2f %7s\n", "fresh up, our share (up --recreate: oursMs)", a, a / f, "2.0"}'
awk -v a="$magain" -v f="$mf" 'BEGIN {printf "%-58s %8.1f %7.2f %7s\n", "up that changes nothing (whole process)", a, a / f, "1.2"}'
awk -v a="$mst" -v f="$mf" 'BEGIN {printf "%-58s %8.1f %7.2f %7s\n", "status (whole process)", a, a / f, "1.1"}'
printf 'peak RSS: up %s KiB (%.1f MiB), status %s KiB (%.1f MiB); target 16 MiB\n' "$rss_up" \
  "$(awk -v k="$rss_up" 'BEGIN {print k / 1024}')" "$rss_status" "$(awk -v k="$rss_status" 'BEGIN {print k / 1024}')"
