#!/bin/bash
# `kindmps-api exec NODE -- true` vs `docker exec NODE true` on the same engine, interleaved runs,
# medians side by side; then the client's own CPU time per API call (bench_docker_api).
# The docker CLI is used here only, as the point of comparison.
#   bench/exec_vs_docker.sh [BUILD_DIR] [RUNS]     (defaults: build, 15)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-15}
bin=$build/src/cli/kindmps-api
[ -x "$bin" ] || { echo "exec_vs_docker: $bin not built (cmake --build $build)" >&2; exit 2; }
command -v docker >/dev/null || { echo "exec_vs_docker: docker CLI not found" >&2; exit 3; }
node=kmps-bench-exec-$$
docker run -d --name "$node" --network none --cap-add SYS_ADMIN kmps-test:busybox sleep 100000 >/dev/null
trap 'docker rm -f "$node" >/dev/null 2>&1 || true' EXIT

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
# Warm both paths (page cache, daemon) before measuring.
"$bin" exec "$node" -- true; docker exec "$node" true
ours=(); theirs=()
for i in $(seq "$runs"); do
  if (( i % 2 )); then
    ours+=("$(ms "$bin" exec "$node" -- true)"); theirs+=("$(ms docker exec "$node" true)")
  else
    theirs+=("$(ms docker exec "$node" true)"); ours+=("$(ms "$bin" exec "$node" -- true)")
  fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
minimum() { printf '%s\n' "$@" | sort -n | head -1 | awk '{printf "%.1f", $1/1000}'; }
maximum() { printf '%s\n' "$@" | sort -n | tail -1 | awk '{printf "%.1f", $1/1000}'; }
echo "exec of 'true' in $node, $runs interleaved runs each, wall time in ms (process start to exit)"
printf '%-34s %8s %8s %8s\n' command median min max
printf '%-34s %8s %8s %8s\n' "kindmps-api exec NODE -- true" "$(median "${ours[@]}")" "$(minimum "${ours[@]}")" "$(maximum "${ours[@]}")"
printf '%-34s %8s %8s %8s\n' "docker exec NODE true" "$(median "${theirs[@]}")" "$(minimum "${theirs[@]}")" "$(maximum "${theirs[@]}")"
if [ -x "$build/bench/bench_docker_api" ]; then
  echo
  echo "client CPU time per API call (bench_docker_api; CPU = this process, Time = wall incl. daemon)"
  "$build/bench/bench_docker_api" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null \
    | grep -E '^(Benchmark|-|BM_.*_median)'
fi
