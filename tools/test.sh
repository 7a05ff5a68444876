#!/bin/bash
# Runs every test: installs what is missing, starts the Docker engines (Debian 12's 20.10 for the
# fast suite and the API-1.41 cassettes, trixie's 26 for real kind), builds real kind and the node
# image (cached outside the clone; a cold build is about 20 minutes here), builds kindmps-api twice
# (plain, and with ASan+UBSan; both with KMPS_WERROR=ON) and runs the whole ctest suite on each
# build, and builds the library and CLI as a user's plain Release build would. The real-cluster
# suite (label k8s) runs on the plain build only.
# Env: KMPS_K8S=0 leaves the real-cluster suite out (it is then reported as skipped).
# Last, the libFuzzer targets (tools/fuzz.sh, docs/fuzzing.md); KMPS_SKIP_FUZZ=1 leaves them out.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# The fast suite and the API-1.41 cassettes are Debian 12's engine on /var/run/docker.sock; a
# DOCKER_HOST left pointing at Docker 26 (docs/real-kind.md) must not redirect them.
unset DOCKER_HOST DOCKER_API_VERSION
tools/install-deps.sh
tools/setup-docker.sh >/dev/null
export KMPS_REQUIRE_DOCKER=1   # tests that need the engine fail rather than skip

if [ "${KMPS_K8S:-1}" != 0 ]; then
  t=$SECONDS
  tools/setup-docker26.sh >/dev/null
  tools/build-kind.sh >/dev/null
  tools/node-image/build.sh >/dev/null
  echo "test.sh: Docker 26, kind and the node image ready in $((SECONDS - t)) s"
  export KMPS_K8S_REQUIRE=1    # the real-cluster suite fails rather than skips
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKMPS_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

# What a user's plain `cmake -DCMAKE_BUILD_TYPE=Release` builds (no -Werror: KMPS_WERROR is off
# there) must build: the library and the CLI, -O3, with Debian 12's GCC.
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKMPS_BUILD_TESTS=OFF -DKMPS_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j "$jobs"

if [ "${KMPS_SKIP_SANITIZERS:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKMPS_SANITIZE=ON -DKMPS_BUILD_BENCH=OFF -DKMPS_WERROR=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs" -LE k8s)
fi

# The libFuzzer targets (docs/fuzzing.md): their corpus in fixtures/fuzz, then 20 s of fuzzing
# each, as many at once as there are CPUs. KMPS_SKIP_FUZZ=1 leaves them out.
if [ "${KMPS_SKIP_FUZZ:-0}" != 1 ]; then
  tools/fuzz.sh
fi
