#!/bin/bash
# Runs every test: installs what is missing, starts the Docker engine, builds kindmps-api twice
# (plain, and with ASan+UBSan) and runs the whole ctest suite on each build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
tools/install-deps.sh
tools/setup-docker.sh >/dev/null
export KMPS_REQUIRE_DOCKER=1   # tests that need the engine fail rather than skip

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

if [ "${KMPS_SKIP_SANITIZERS:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKMPS_SANITIZE=ON -DKMPS_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs")
fi
