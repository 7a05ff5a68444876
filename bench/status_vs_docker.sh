#!/bin/bash
# `kindmps-api status` vs the equivalent docker CLI loop on a 5-node cluster (control-plane + 4
# workers) made by `kindmps-api up` with the project's stand-in kind and the MPS emulator; also the
# peak memory of `status` and `up`'s time split into kind's part and ours. The docker CLI is used
# here only, as the point of comparison.
#   bench/status_vs_docker.sh [BUILD_DIR] [RUNS]     (defaults: build, 11; needs root for mknod)
# The docker loop does per node what status reads: `docker top N` and `docker exec N cat /proc/mounts`
# (status also checks the pipe socket in the same exec). Runs are interleaved, the order
# alternating every round; medians of wall time from process start to exit.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
runs=${2:-11}
cli=$build/src/cli/kindmps-api
kind=$build/tools/fake-kind/kind
emu=$build/tools/mps-emu
[ -x "$cli" ] || { echo "status_vs_docker: $cli not built (cmake --build $build)" >&2; exit 2; }
command -v docker >/dev/null || { echo "status_vs_docker: docker CLI not found" >&2; exit 3; }
[ -x /usr/bin/time ] || { echo "status_vs_docker: /usr/bin/time not found (apt-get install time)" >&2; exit 3; }

name=kmps-bench-status-$$
work=$(mktemp -d /tmp/kmps-bench-status.XXXXXX)
export KMPS_STATE_DIR=$work/state
export KMPS_FAKE_KIND_IMAGE=${KMPS_TEST_IMAGE:-kmps-test:busybox}
cleanup() {
  "$cli" down --name "$name" --kind "$kind" >/dev/null 2>&1 || "$kind" delete cluster --name "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

host=$(tools/make-fake-host.sh "$work/host" "$emu")
"$cli" up --name "$name" --workers 4 --driver-root "$host" --dev-root "$host" --kind "$kind" --json >"$work/up.json"
read -r total kind_ms ours_ms healthy < <(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); t = d["timings"]
print(round(t["totalMs"]), round(t["kindMs"]), round(t["oursMs"]), d["healthy"])' "$work/up.json")
mapfile -t nodes < <(docker ps --filter "label=io.x-k8s.kind.cluster=$name" --format '{{.Names}}' | sort)
[ "${#nodes[@]}" = 5 ] || { echo "status_vs_docker: expected 5 nodes, got ${#nodes[@]}" >&2; exit 1; }

docker_loop() {
  for n in "${nodes[@]}"; do
    docker top "$n" -o pid,ppid,stat,args >/dev/null
    docker exec "$n" cat /proc/mounts >/dev/null
  done
}
us() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
# Warm both paths once.
"$cli" status --name "$name" >/dev/null; docker_loop
ours=(); theirs=()
for i in $(seq "$runs"); do
  if (( i % 2 )); then
    ours+=("$(us "$cli" status --name "$name" --json)"); theirs+=("$(us docker_loop)")
  else
    theirs+=("$(us docker_loop)"); ours+=("$(us "$cli" status --name "$name" --json)")
  fi
done
# Peak resident memory of status (max RSS, KiB), over 5 runs.
rss=()
for _ in 1 2 3 4 5; do
  /usr/bin/time -f %M -o "$work/rss" "$cli" status --name "$name" --json >/dev/null
  rss+=("$(tail -1 "$work/rss")")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
minimum() { printf '%s\n' "$@" | sort -n | head -1 | awk '{printf "%.1f", $1/1000}'; }
maximum() { printf '%s\n' "$@" | sort -n | tail -1 | awk '{printf "%.1f", $1/1000}'; }
m_ours=$(median "${ours[@]}"); m_theirs=$(median "${theirs[@]}")
echo "cluster $name: ${#nodes[@]} nodes (control-plane + 4 workers), $runs interleaved runs each, wall ms"
printf '%-52s %8s %8s %8s\n' command median min max
printf '%-52s %8s %8s %8s\n' "kindmps-api status --json" "$m_ours" "$(minimum "${ours[@]}")" "$(maximum "${ours[@]}")"
printf '%-52s %8s %8s %8s\n' "docker top + docker exec cat /proc/mounts, per node" "$m_theirs" "$(minimum "${theirs[@]}")" "$(maximum "${theirs[@]}")"
awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN {printf "status / docker loop = %.3f (target <= 0.25)\n", a / b}'
printf 'status peak RSS (KiB, 5 runs): %s; max %s KiB = %.1f MiB (target < 16 MiB)\n' "${rss[*]}" \
  "$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)" "$(printf '%s\n' "${rss[@]}" | sort -n | tail -1 | awk '{print $1/1024}')"
echo "up (5 nodes, healthy=$healthy): total ${total} ms = kind ${kind_ms} ms + ours ${ours_ms} ms"
