#!/bin/bash
# The main job on a fresh Debian 12 machine without a GPU: installs what is needed, builds
# kindmps-api, starts a Docker engine, and runs the whole flow up -> status -> mps -> down on a
# kind cluster made by the project's stand-in kind, with the MPS emulator as the "driver".
# On a GPU host, use the real thing instead (see README: "Real use on a GPU host").
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/setup-docker.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKMPS_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
export PATH=$PWD/build/src/cli:$PATH
work=$(mktemp -d /tmp/kmps-demo.XXXXXX)
export KMPS_STATE_DIR=$work/state KMPS_FAKE_KIND_IMAGE=kmps-test:busybox
host=$(tools/make-fake-host.sh "$work/host" build/tools/mps-emu)
kind=build/tools/fake-kind/kind
name=kmps-demo
trap '"$kind" delete cluster --name $name >/dev/null 2>&1; rm -rf "$work"' EXIT

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
run kindmps-api inspect --driver-root "$host" --dev-root "$host"
run kindmps-api up --name $name --workers 1 --driver-root "$host" --dev-root "$host" --kind "$kind"
run kindmps-api status --name $name
run kindmps-api ps $name-control-plane
run kindmps-api mps --name $name --all get_server_list
run kindmps-api mps --name $name --node $name-worker set_default_active_thread_percentage 50
run kindmps-api exec $name-control-plane -- sh -c 'df -h /dev/shm; ls -l /tmp/nvidia-mps'
run kindmps-api down --name $name --kind "$kind"
