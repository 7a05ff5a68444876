#!/bin/bash
# Builds the libFuzzer targets (tests/fuzz, docs/fuzzing.md) in build-fuzz with Debian's clang and
# runs each: first once over every input of its corpus, fixtures/fuzz/<target>/ (the regression
# inputs), then fuzzing for a bounded time from a copy of that corpus in a temporary directory
# (the repository is never written). Prints one line per target; exits 1 when any target crashed,
# hung, ran out of memory or hit undefined behaviour, and says where the reproducer is.
# Usage: tools/fuzz.sh [TARGET...]   (default: every target)
# Env: KMPS_FUZZ_SECONDS (20) seconds of fuzzing per target, 0 for the regression inputs only;
#      KMPS_FUZZ_JOBS (nproc) targets run at once; KMPS_FUZZ_CXX (clang++-16) the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${KMPS_FUZZ_SECONDS:-20}
jobs=${KMPS_FUZZ_JOBS:-$(nproc)}
cxx=${KMPS_FUZZ_CXX:-clang++-16}

# target:max_len, the longest input worth mutating (the parsers bound nothing smaller).
all=(ld_cache:8192 elf_soname:8192 http_response:8192 exec_stream:8192 kindmps_yaml:4096
     state_file:4096 docker_host:256 mps_reply:4096 mounts:4096 kind_config:4096)
if [ $# -gt 0 ]; then
  selected=()
  for want in "$@"; do
    found=
    for t in "${all[@]}"; do [ "${t%%:*}" = "$want" ] && selected+=("$t") && found=1; done
    [ -n "$found" ] || { echo "fuzz.sh: no target $want (tests/fuzz/${want}_fuzz.cc)" >&2; exit 2; }
  done
else
  selected=("${all[@]}")
fi

command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx is missing (tools/install-deps.sh installs it)" >&2; exit 3; }
t=$SECONDS
# -O1 and line tables: quick to build, fast enough to fuzz, stacks with file:line.
cmake -S . -B build-fuzz -G Ninja -DKMPS_FUZZ=ON -DCMAKE_C_COMPILER="${cxx/clang++/clang}" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DKMPS_BUILD_TESTS=OFF \
  -DKMPS_BUILD_BENCH=OFF >/dev/null
if ! cmake --build build-fuzz -j "$(nproc)" --target kmps_fuzz >build-fuzz/build.log 2>&1; then
  grep -v '^\[' build-fuzz/build.log >&2 || true
  echo "fuzz.sh: the build failed (build-fuzz/build.log)" >&2
  exit 1
fi
echo "fuzz.sh: built in $((SECONDS - t)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/kmps-fuzz.XXXXXX")
keep=
cleanup() { [ -n "$keep" ] || rm -rf "$work"; }
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=/usr/lib/llvm-${cxx##*-}/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer}

# run_target NAME MAX_LEN: writes $work/NAME/summary, one line (with FAILED on a finding).
run_target() {
  local name=$1 max_len=$2 dir=$work/$1 bin=build-fuzz/tests/fuzz/$1_fuzz
  local seeds=fixtures/fuzz/$1
  mkdir -p "$dir/corpus" "$dir/tmp"
  cp "$seeds"/* "$dir/corpus/"
  local n_seeds; n_seeds=$(find "$seeds" -type f | wc -l)
  # The regression inputs, each once (whatever max_len).
  if ! TMPDIR=$dir/tmp "$bin" -rss_limit_mb=2048 -timeout=10 "$seeds"/* >"$dir/regression.log" 2>&1; then
    echo "$name: FAILED on a regression input of $seeds (log: $dir/regression.log)" >"$dir/summary"
    return 1
  fi
  if [ "$seconds" = 0 ]; then
    echo "$name: $n_seeds regression inputs ok" >"$dir/summary"
    return 0
  fi
  local rc=0
  TMPDIR=$dir/tmp "$bin" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/fuzz.log" 2>&1 || rc=$?
  local execs secs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$dir/fuzz.log" | tail -1)
  if [ "$rc" != 0 ]; then
    local artifact; artifact=$(ls "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-* 2>/dev/null | head -1 || true)
    echo "$name: FAILED after ${execs:-?} executions (reproducer: ${artifact:-none}; log: $dir/fuzz.log)" >"$dir/summary"
    return 1
  fi
  echo "$name: ${execs:-?} executions in ${secs:-?} s, $n_seeds regression inputs ok, corpus $(ls "$dir/corpus" | wc -l)" \
    >"$dir/summary"
}

t=$SECONDS
for entry in "${selected[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_target "${entry%%:*}" "${entry##*:}" &
done
wait
failed=0
for entry in "${selected[@]}"; do
  name=${entry%%:*}
  line=$(cat "$work/$name/summary" 2>/dev/null || echo "$name: FAILED, no result")
  case $line in *FAILED*) failed=1 ;; esac
  echo "fuzz.sh: $line"
done
echo "fuzz.sh: ${#selected[@]} targets in $((SECONDS - t)) s"
if [ "$failed" != 0 ]; then
  keep=1
  for entry in "${selected[@]}"; do
    name=${entry%%:*}
    grep -q FAILED "$work/$name/summary" 2>/dev/null || continue
    for log in "$work/$name/regression.log" "$work/$name/fuzz.log"; do
      [ -f "$log" ] || continue
      # The report: from the sanitizer's or libFuzzer's first line of it, its stack.
      echo "fuzz.sh: $name, $log:" >&2
      sed -n '/ERROR: \|runtime error\|invariant failed\|==[0-9]*== *ERROR\|^terminate called/,/^SUMMARY\|^MS:/p' "$log" \
        | head -n 60 >&2
    done
  done
  echo "fuzz.sh: fix the parser, then keep the reproducer: cp <reproducer> fixtures/fuzz/<target>/ (docs/fuzzing.md)" >&2
  exit 1
fi
