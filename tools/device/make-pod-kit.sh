#!/bin/bash
# The kit for tools/device/gpu-pods.sh (issue 12): everything the GPU machine lacks to run real
# Pods in a kind-style node, in OUT_DIR (default .device/podkit):
#   kmps.tar.xz      kindmps-api, kmps-recorder, the stand-in kind (tools/device/make-kit.sh, no engine)
#   engine.tar.xz    Docker 26 with containerd 1.7 (CDI), ctr, runc, the docker CLI, busybox (make-docker-bundle.sh)
#   k8s.tar.xz       kubelet and crictl (built by tools/node-image), kindmps-device-plugin, a static pause
# Usage: make-pod-kit.sh BUILD_DIR [OUT_DIR]      (prints each file's size; all must travel in 64 MiB)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath "${1:?usage: make-pod-kit.sh BUILD_DIR [OUT_DIR]}")
out=$(realpath -m "${2:-$src/.device/podkit}")
cache=${KMPS_CACHE_DIR:-$HOME/.cache/kindmps}
mkdir -p "$out"
KMPS_KIT_DOCKER=0 KMPS_KIT_MAX_MIB=64 bash "$src/tools/device/make-kit.sh" "$build" "$out" >/dev/null
[ -s "$out/engine.tar.xz" ] || KMPS_BUNDLE_DOCKER=26 bash "$src/tools/device/make-docker-bundle.sh" "$out/engine.tar.xz" >/dev/null
source "$src/tools/node-image/versions.env"
kubelet=$(ls -d "$cache"/k8s/"$K8S_VERSION"-*/kubelet 2>/dev/null | head -1)
crictl=$(ls -d "$cache"/crictl/*/crictl 2>/dev/null | head -1)
[ -x "$kubelet" ] && [ -x "$crictl" ] || { echo "make-pod-kit: no kubelet/crictl in $cache (run tools/node-image/build.sh)" >&2; exit 1; }
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT; mkdir -p "$w/bin"
strip -o "$w/bin/kubelet" "$kubelet"; strip -o "$w/bin/crictl" "$crictl"
(cd "$src/tools/node-image/device-plugin" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$w/bin/kindmps-device-plugin" .)
gcc -static -O2 -Wall -Wextra -Werror -o "$w/bin/pause" "$src/tools/node-image/pause/pause.c"
tar -C "$w" -cf - . | xz -T0 -9 >"$out/k8s.tar.xz"
(cd "$out" && ls -l kmps.tar.xz engine.tar.xz k8s.tar.xz | awk '{printf "%10d  %s\n", $5, $9}')
du -sb "$out" | awk '{printf "make-pod-kit: %.1f MiB in all\n", $1 / 1048576}'
