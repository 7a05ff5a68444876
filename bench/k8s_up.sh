#!/bin/bash
# Real-cluster figures: the node image build (warm lookup, and a re-assembly with every piece
# cached), then RUNS times `kindmps-api up` with real kind on 1 control plane + 1 GPU worker
# (split into kind's part and ours), the time from the start of `up` to the first MPS Pod Running,
# and `down`. Prints one line per run and the medians.
#   bench/k8s_up.sh BUILD_DIR [RUNS]        (root; Docker 26 via tools/setup-docker26.sh)
# The cold build is measured with a fresh cache: KMPS_CACHE_DIR=$(mktemp -d) GOMODCACHE=... GOCACHE=...
# tools/node-image/build.sh (see docs/benchmarks.md for the figures and the command).
set -euo pipefail
build=$(realpath "${1:?usage: k8s_up.sh BUILD_DIR [RUNS]}")
runs=${2:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
cli=$build/src/cli/kindmps-api emu=$build/tools/mps-emu
sock=$("$src/tools/setup-docker26.sh"); kind=$("$src/tools/build-kind.sh")
export DOCKER_HOST=unix://$sock PATH="$(dirname "$("$src/tools/setup-docker26.sh" --cli)"):$PATH"
ms() { date +%s%3N; }

t=$(ms); image=$("$src/tools/node-image/build.sh" 2>/dev/null | tail -1); warm=$(( $(ms) - t ))
echo "node image $image: warm lookup $warm ms"
t=$(ms); KMPS_NODE_IMAGE_REASSEMBLE=1 "$src/tools/node-image/build.sh" >/dev/null 2>&1; re=$(( $(ms) - t ))
echo "node image re-assembled from cached pieces: $re ms"

work=$(mktemp -d /tmp/kmps-bench-k8s.XXXXXX)
export KUBECONFIG=$work/kubeconfig KMPS_STATE_DIR=$work/state
name=kmps-bench-k8s
trap '"$kind" delete cluster --name $name >/dev/null 2>&1; docker rmi kindmps.dev/mps-emu-client:bench >/dev/null 2>&1; rm -rf "$work"' EXIT
host=$("$src/tools/make-fake-host.sh" "$work/host" "$emu")
printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\nname: %s\nimage: %s\nworkers: 1\ngpuNodes: [worker]\n' \
  "$name" "$image" > "$work/kindmps.yaml"
w=$work/img; mkdir -p "$w/bin" "$w/tmp"; cp /bin/busybox "$w/bin/"; ln -s busybox "$w/bin/sh"
cp "$emu/mps-emu-client" "$w/bin/"; tar -C "$w" -cf "$w.tar" .
docker import -c 'ENV PATH=/bin' "$w.tar" kindmps.dev/mps-emu-client:bench >/dev/null
docker save -o "$work/client.tar" kindmps.dev/mps-emu-client:bench
pod="apiVersion: v1
kind: Pod
metadata: {name: first}
spec:
  nodeSelector: {kubernetes.io/hostname: $name-worker}
  containers:
  - name: c
    image: kindmps.dev/mps-emu-client:bench
    imagePullPolicy: Never
    command: [mps-emu-client, -sleep, '30']
    env: [{name: CUDA_MPS_PIPE_DIRECTORY, value: /tmp/nvidia-mps}]
    volumeMounts: [{name: p, mountPath: /tmp/nvidia-mps}]
  volumes: [{name: p, hostPath: {path: /tmp/nvidia-mps}}]"

rows=()
for i in $(seq "$runs"); do
  t0=$(ms)
  out=$("$cli" up --config "$work/kindmps.yaml" --kind "$kind" --driver-root "$host" --dev-root "$host" --json 2>/dev/null)
  t_up=$(( $(ms) - t0 ))
  read -r kind_ms ours_ms < <(python3 -c 'import json,sys; t=json.load(sys.stdin)["timings"]; print(round(t["kindMs"]), round(t["oursMs"]))' <<<"$out")
  "$kind" load image-archive "$work/client.tar" --name "$name" >/dev/null
  docker exec -i "$name-control-plane" kubectl apply -f - <<<"$pod" >/dev/null
  docker exec "$name-control-plane" kubectl wait --for=condition=Ready pod/first --timeout=300s >/dev/null
  t_pod=$(( $(ms) - t0 ))
  t1=$(ms); "$cli" down --name "$name" --kind "$kind" >/dev/null 2>&1; t_down=$(( $(ms) - t1 ))
  echo "run $i: up ${t_up} ms (kind ${kind_ms}, kindmps-api ${ours_ms}); first MPS Pod Running at ${t_pod} ms; down ${t_down} ms"
  rows+=("$t_up $kind_ms $ours_ms $t_pod $t_down")
done
printf '%s\n' "${rows[@]}" | python3 -c '
import sys, statistics as s
r = [list(map(int, l.split())) for l in sys.stdin]
m = [s.median(c) for c in zip(*r)]
print("median of %d: up %.1f s (kind %.1f s, kindmps-api %.2f s); up to first MPS Pod Running %.1f s; down %.1f s"
      % (len(r), m[0]/1e3, m[1]/1e3, m[2]/1e3, m[3]/1e3, m[4]/1e3))'
