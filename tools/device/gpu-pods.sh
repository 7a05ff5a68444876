#!/bin/bash
# Issue 12 in one command on the GPU machine: real Pods, started by kubelet through containerd
# inside kind-style nodes, sharing the GPU through each node's MPS. docs/gpu-e2e.md says what
# runs and holds the figures.
#
#   (as root, from the repo root, with the kit of tools/device/make-pod-kit.sh at .device/podkit)
#   OUT=/some/dir bash tools/device/gpu-pods.sh
#
# The nodes: the stand-in kind (real kind's node image cannot travel here) makes the containers on
# Docker 26 (privileged), `kindmps-api up` prepares them (8 GiB /dev/shm, the MPS daemon, the CDI
# spec), then tools/device/node-k8s.sh runs containerd 1.7 and kubelet (standalone, static Pods)
# and kindmps-device-plugin in each GPU node. Pods are what `kindmps-api pod` prints (and what
# `kindmps-api pod --patch` makes of the benchmark's manifests), dropped into kubelet's manifest
# directory.
# Writes to $OUT: gpu-pods.log, summary.txt, bench.json, bench.md, cassettes.tar.gz, artifacts.tar.gz.
# Env: KMPS_PODKIT (.device/podkit), KMPS_BENCH_SECONDS (4), KMPS_BENCH_KS ("1 2 4 8"),
#      KMPS_PODS_BUDGET_S (540: later steps are skipped past it).
# Test hooks (a machine without a GPU): KMPS_PODS_DRIVER_ROOT (a fake host, tools/make-fake-host.sh),
#      KMPS_E2E_FAKE_CUDA=1 (shell stand-ins for the CUDA programs, attaching with mps-emu-client).
set -uo pipefail
export LC_ALL=C
T0=$(date +%s%N)
OUT=${OUT:?OUT must name the output directory}
mkdir -p "$OUT"
KIT=$(realpath "${KMPS_PODKIT:-.device/podkit}")
SRC=$(pwd)
W=/tmp/kmps-pods
SHARE=/var/lib/kmps-pods          # read-only in every node at /kmps: the kit for the nodes, images
RW=/var/lib/kmps-pods-rw          # read-write at /kmps-rw: the benchmark's barrier directories
rm -rf "$W" "$SHARE" "$RW"; mkdir -p "$W/art" "$W/cassettes" "$W/kit" "$W/cuda" "$W/res" "$SHARE/images" "$SHARE/kit" "$RW"
chmod 755 "$SHARE" "$RW"
ART=$W/art K=$W/kit NAME=gpu-pods
NODE_IMAGE=kmps-gpu/node:pods CLIENT_IMAGE=kmps-gpu/client:pods
# The engine may come ahead in a call of its own (the device tool carries 64 MiB a call): its
# bundle in KMPS_PODS_ENGINE, or dockerd already running from it.
ENGINE=${KMPS_PODS_ENGINE:-$KIT/engine.tar.xz}
SOCK=${KMPS_PODS_SOCK:-/var/run/docker.sock} REC_SOCK=$W/rec.sock REC_PID=
KMPS_DOCKER_HOST=unix://$SOCK
export DOCKER_HOST=unix://$SOCK KMPS_KIND_DOCKER_HOST=unix://$SOCK
BUDGET=${KMPS_PODS_BUDGET_S:-540}
BENCH_S=${KMPS_BENCH_SECONDS:-4}
BENCH_KS=${KMPS_BENCH_KS:-1 2 4 8}
DRIVER_ROOT=${KMPS_PODS_DRIVER_ROOT:-}
FAKE=${KMPS_E2E_FAKE_CUDA:-0}
W1=$NAME-worker W2=$NAME-worker2
declare -A RESULT NOTE
exec > >(trap '' INT TERM; exec tee -a "$OUT/gpu-pods.log") 2>&1
TEE_PID=$!

source "$SRC/tools/device/steps.sh"
kmps() {
  local t; t=$(now_ms); echo "+ kindmps-api $*" >&2
  LD_LIBRARY_PATH=$K/lib DOCKER_HOST=$KMPS_DOCKER_HOST timeout "${KT:-120}" "$K/bin/kindmps-api" "$@"
  local rc=$?; echo "  [kindmps-api rc=$rc, $(( $(now_ms) - t )) ms]" >&2; return $rc
}
json() { "$KMPS_PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
in_node() { docker exec "$@"; }
mpslog() { in_node "$1" cat /var/log/nvidia-mps/control.log 2>/dev/null; }
count() { mpslog "$1" | grep -c -- "$2"; }

rec_start() {  # PHASE DESCRIPTION
  local f=$W/cassettes/$SLUG-pods-$1.json
  [ -x "$K/bin/kmps-recorder" ] || { echo "no kmps-recorder: not recording $1"; return 1; }
  rm -f "$REC_SOCK"
  LD_LIBRARY_PATH=$K/lib "$K/bin/kmps-recorder" --listen "$REC_SOCK" --upstream "$SOCK" --out "$f" \
    --description "$2 Recorded by tools/device/gpu-pods.sh on $GPU_NAME, driver $DRIVER, $(date -u +%F)." \
    >>"$ART/recorder.log" 2>&1 &
  REC_PID=$!
  for _ in $(seq 100); do [ -S "$REC_SOCK" ] && break; sleep 0.05; done
  [ -S "$REC_SOCK" ] && { KMPS_DOCKER_HOST=unix://$REC_SOCK; return 0; }
  echo "recorder did not listen"; rec_stop; return 1
}
rec_stop() {
  KMPS_DOCKER_HOST=unix://$SOCK
  [ -n "$REC_PID" ] || return 0
  kill -INT "$REC_PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$REC_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null; REC_PID=
}

# pod_put NODE NAME FILE: the manifest into the node's kubelet (atomically: kubelet polls the dir).
pod_put() { in_node -i "$1" sh -c "cat >/etc/kubernetes/manifests/.$2.tmp && mv /etc/kubernetes/manifests/.$2.tmp /etc/kubernetes/manifests/$2.yaml" <"$3"; }
pod_rm() { in_node "$1" rm -f "/etc/kubernetes/manifests/$2.yaml"; }
# pod_wait NODE NAME SECONDS [running|exited]: waits for the container's state; prints its id.
pod_wait() {
  local node=$1 name=$2 secs=$3 want=${4:-exited} id=
  for _ in $(seq $((secs * 5))); do
    id=$(in_node "$node" crictl ps -a --name "^$name\$" --state "$want" -q 2>/dev/null | head -1)
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.2
  done
  echo "pod $name on $node: not $want within $secs s; kubelet says:" >&2
  in_node "$node" sh -c 'tail -n 15 /var/log/kmps/kubelet.log' >&2
  return 1
}
pod_logs() { in_node "$1" crictl logs "$2" 2>&1; }
pods_clear() {  # NODE: removes every manifest and waits until no Pod runs there
  in_node "$1" sh -c 'rm -f /etc/kubernetes/manifests/*.yaml'
  for _ in $(seq 150); do [ -z "$(in_node "$1" crictl pods --state ready -q 2>/dev/null)" ] && return 0; sleep 0.2; done
  echo "pods on $1 still there after 30 s" >&2
}

collect_logs() {  # the nodes' logs into $ART, while the nodes are there
  for n in $W1 $W2; do
    docker inspect "$n" >/dev/null 2>&1 || continue
    docker exec "$n" sh -c 'cd /var/log && tar -cf - kmps kmps-node-k8s.log nvidia-mps 2>/dev/null' >"$ART/$n-logs.tar" 2>/dev/null
  done
}
finish() {
  trap - EXIT INT TERM
  rec_stop
  hdr "SUMMARY"
  {
    echo "gpu-pods on ${GPU_NAME:-?} (driver ${DRIVER:-?}, CUDA ${CUDA_VER:-?}), $(date -u +%FT%TZ), $(el) s"
    for s in 0 1 2 3 4 5 6 7 bench; do echo "STEP $s: ${RESULT[$s]:-NOT RUN} ${NOTE[$s]:-}"; done
  } | tee "$OUT/summary.txt"
  collect_logs
  if [ -S "$SOCK" ] && command -v docker >/dev/null; then
    docker ps -aq --filter label=io.x-k8s.kind.cluster=$NAME | xargs -r docker rm -f -v >/dev/null 2>&1
  fi
  cp /var/log/kmps-dockerd.log "$ART/dockerd.log" 2>/dev/null
  tar -C "$W/cassettes" -czf "$OUT/cassettes.tar.gz" . 2>/dev/null
  tar -C "$ART" -czf "$OUT/artifacts.tar.gz" . 2>/dev/null
  ls -la "$OUT"
  exec >&- 2>&-; wait "$TEE_PID" 2>/dev/null || sleep 1
}
trap finish EXIT
trap 'echo "!!! interrupted at t=$(el)s"; exit 124' INT TERM

# =====================================================================================
step 0 "host facts, kit, Docker 26, images"
if [ "$FAKE" = 1 ]; then GPU_NAME="emulated GPU"; DRIVER=emulated; CUDA_VER=-; SLUG=emu
else
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
  CUDA_VER=$(nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | cut -d' ' -f3)
  SLUG=$(echo "$GPU_NAME" | grep -oiE '\b[A-Z]+[0-9]{2,}[A-Z]*\b' | head -1 | tr 'A-Z' 'a-z'); SLUG=${SLUG:-gpu}
fi
echo "GPU: $GPU_NAME | driver $DRIVER | CUDA $CUDA_VER | $(date -u +%FT%TZ) | $(nproc) cores | kernel $(uname -r)"
stat -fc 'cgroup fs: %T' /sys/fs/cgroup
for p in python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
  "$p" -c 'import yaml' 2>/dev/null && { KMPS_PYTHON=$(command -v "$p"); break; }
done
export KMPS_PYTHON=${KMPS_PYTHON:-python3}
du -b "$KIT"/*.tar.xz
ok0=1
tar -C "$K" -xJf "$KIT/kmps.tar.xz" || ok0=0
mkdir -p "$SHARE/kit/k8s" && tar -C "$SHARE/kit/k8s" -xJf "$KIT/k8s.tar.xz" || ok0=0
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
nvcc_pids=()
if [ "$FAKE" != 1 ]; then
  for p in vadd mps_client; do
    ( "$NVCC" -O2 -arch=sm_90 -cudart static -o "$W/cuda/$p" "$SRC/bench/gpu/$p.cu" >"$W/cuda/$p.log" 2>&1 ) &
    nvcc_pids+=($!)
  done
fi
if [ -S "$SOCK" ] && docker version >/dev/null 2>&1; then echo "an engine already answers on $SOCK"
else bash "$SRC/tools/device/start-bundled-dockerd.sh" "$ENGINE" || ok0=0; fi
[ -x /opt/kmps-docker/bin/containerd ] || { mkdir -p /opt/kmps-docker && tar -C /opt/kmps-docker -xJf "$ENGINE"; } || ok0=0
export PATH=$K/bin:/opt/kmps-docker/bin:$PATH
for _ in $(seq 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
docker version --format 'docker engine {{.Server.Version}} (API {{.Server.APIVersion}})' || ok0=0
mkdir -p "$SHARE/kit/engine" && cp -a /opt/kmps-docker/bin /opt/kmps-docker/lib "$SHARE/kit/engine/" 2>/dev/null
cp "$SRC/tools/device/node-k8s.sh" "$SHARE/kit/"
[ ${#nvcc_pids[@]} = 0 ] || wait "${nvcc_pids[@]}"  # never a bare wait: it would wait for tee too
if [ "$FAKE" = 1 ]; then  # stand-ins that attach to MPS through the emulator's client
  printf '#!/bin/sh\n[ -S "${CUDA_MPS_PIPE_DIRECTORY:-/none}/control" ] && mps-emu-client >/dev/null\necho "vadd ok value=1.0 (fake)"\n' >"$W/cuda/vadd"
  cat >"$W/cuda/mps_client" <<'EOF'
#!/bin/sh
secs=1 label=client bar=
while [ $# -gt 0 ]; do case $1 in --seconds) secs=$2;; --label) label=$2;; --barrier-dir) bar=$2;; esac; shift 2; done
[ -S "${CUDA_MPS_PIPE_DIRECTORY:-/none}/control" ] && { mps-emu-client -sleep "$secs" >/dev/null & }
[ -z "$bar" ] || { echo ready >"$bar/ready.$label"; while [ ! -s "$bar/go" ]; do sleep 0.05; done; }
sleep "$secs"
echo "{\"label\":\"$label\",\"kernels\":1000,\"seconds\":$secs,\"kps\":200.0,\"mean_us\":50.0,\"p50_us\":45.0,\"p90_us\":60.0,\"p99_us\":90.0,\"max_us\":99.0,\"late_ms\":0.0,\"sms\":${CUDA_MPS_ACTIVE_THREAD_PERCENTAGE:-100},\"ok\":true}"
EOF
  chmod +x "$W/cuda/vadd" "$W/cuda/mps_client"
fi
for p in vadd mps_client; do [ -x "$W/cuda/$p" ] || { cat "$W/cuda/$p.log"; ok0=0; }; done

# rootfs DIR BINARIES...: static busybox, the host's glibc and C++ runtime, and what BINARIES load.
rootfs() {
  local r=$1; shift
  mkdir -p "$r"/{bin,sbin,etc,tmp,proc,sys,dev,run,root,var/log,usr/bin,usr/sbin,usr/local/bin,usr/lib/x86_64-linux-gnu,usr/lib64}
  chmod 1777 "$r/tmp"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
  cp /opt/kmps-docker/bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nmps:x:1000:1000:mps:/tmp:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\nmps:x:1000:\n' >"$r/etc/group"
  local libs; libs=$(for b in "$@"; do ldd "$b" 2>/dev/null; done | awk '$3 ~ /^\// {print $3}' | grep -Ev 'nvidia|cuda' | sort -u)
  for l in $libs /lib/x86_64-linux-gnu/{libc.so.6,libm.so.6,libpthread.so.0,libdl.so.2,librt.so.1,libstdc++.so.6,libgcc_s.so.1,ld-linux-x86-64.so.2}; do
    [ -e "$l" ] && cp -L "$l" "$r/usr/lib/x86_64-linux-gnu/$(basename "$l")"
  done
  ln -sf ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$r/usr/lib64/ld-linux-x86-64.so.2"
}
# The node image: a stand-in for kind's (which cannot travel): containerd, kubelet and the plugin
# run from the kit at /kmps; the driver comes through the kind config's mounts.
rootfs "$W/node" /opt/kmps-docker/bin/containerd /opt/kmps-docker/bin/runc /opt/kmps-docker/bin/ctr
tar -C "$W/node" -cf "$W/node.tar" . && docker import -c 'CMD ["sleep", "2147483647"]' "$W/node.tar" "$NODE_IMAGE" >/dev/null || ok0=0
# The Pods' image: the two CUDA programs (and, with the emulator, its client and control utility;
# on the GPU, the host's nvidia-cuda-mps-control, for the Pod that tries to quit the daemon).
ctl=$(command -v nvidia-cuda-mps-control || echo /usr/local/nvidia/bin/nvidia-cuda-mps-control)
[ -z "$DRIVER_ROOT" ] || ctl=$DRIVER_ROOT/usr/local/nvidia/bin/nvidia-cuda-mps-control
rootfs "$W/client" "$W/cuda/vadd" "$W/cuda/mps_client" "$ctl"
cp "$W/cuda/vadd" "$W/cuda/mps_client" "$W/client/usr/local/bin/"
cp -L "$ctl" "$W/client/usr/local/bin/nvidia-cuda-mps-control" 2>/dev/null || echo "no nvidia-cuda-mps-control for the Pods"
[ "$FAKE" != 1 ] || cp -L "${KMPS_PODS_EMU_CLIENT:-$SRC/build/tools/mps-emu/mps-emu-client}" "$W/client/usr/local/bin/"
tar -C "$W/client" -cf "$W/client.tar" . &&
  docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' "$W/client.tar" "$CLIENT_IMAGE" >/dev/null &&
  docker save -o "$SHARE/images/client.tar" "$CLIENT_IMAGE" || ok0=0
mkdir -p "$W/pause" && cp "$SHARE/kit/k8s/bin/pause" "$W/pause/pause" && tar -C "$W/pause" -cf "$W/pause.tar" pause &&
  docker import -c 'ENTRYPOINT ["/pause"]' "$W/pause.tar" kmps-gpu/pause:pods >/dev/null &&
  docker save -o "$SHARE/images/pause.tar" kmps-gpu/pause:pods || ok0=0
chmod -R a+rX "$SHARE"
du -sh "$SHARE/images"/* "$SHARE/kit"
[ $ok0 = 1 ] && pass "Docker 26, kit, node and Pod images ready" || fail "setup incomplete (see above)"

# =====================================================================================
step 1 "kindmps-api inspect on the real host"
root_args=(); [ -z "$DRIVER_ROOT" ] || root_args=(--driver-root "$DRIVER_ROOT" --dev-root "$DRIVER_ROOT")
KT=60 kmps inspect "${root_args[@]}" >"$ART/inspect.txt" 2>&1; rc=$?; cat "$ART/inspect.txt"
[ $rc = 0 ] && pass "inspect ok" || fail "inspect exit $rc"

# =====================================================================================
step 2 "up: two GPU workers, each with its own MPS daemon"
cat >"$W/kindmps.yaml" <<YAML
apiVersion: kindmps.dev/v1alpha1
kind: Config
name: $NAME
image: $NODE_IMAGE
workers: 2
gpuNodes: [worker]
extraMounts:
  - {hostPath: $SHARE, containerPath: /kmps, readOnly: true}
  - {hostPath: $RW, containerPath: /kmps-rw, readOnly: false}
YAML
cat "$W/kindmps.yaml"
rec_start up "kindmps-api up of a cluster with two GPU workers on one real GPU."
KT=240 kmps up --config "$W/kindmps.yaml" --kind "$K/bin/kind" "${root_args[@]}" --json >"$ART/up.json"; rc=$?
rec_stop; head -c 3000 "$ART/up.json"; echo
gpus=$(json '",".join(sorted(n["name"] for n in d["nodes"] if n["gpu"] and n["mps"]["control"]["running"]))' <"$ART/up.json")
echo "GPU nodes with a daemon: $gpus"
for n in $W1 $W2; do echo "--- $n"; in_node "$n" sh -c 'df -h /dev/shm | tail -1; ls -la /tmp/nvidia-mps; ls /var/run/cdi'; done
if [ $rc = 0 ] && [ "$gpus" = "$W1,$W2" ]; then pass "healthy; daemons in $gpus"
else fail "up exit $rc; daemons in '$gpus'"; fi

# =====================================================================================
step 3 "containerd and kubelet in each GPU node"
ok3=1
for n in $W1 $W2; do in_node -d "$n" sh -c 'sh /kmps/kit/node-k8s.sh /kmps/kit /kmps/images >/var/log/kmps-node-k8s.log 2>&1'; done
for n in $W1 $W2; do
  for _ in $(seq 300); do in_node "$n" test -f /run/kmps-k8s.ready && break; in_node "$n" test -f /var/log/kmps-node-k8s.log || true; sleep 0.2; done
  echo "--- $n"; in_node "$n" cat /var/log/kmps-node-k8s.log
  in_node "$n" test -f /run/kmps-k8s.ready || { ok3=0; in_node "$n" sh -c 'tail -n 30 /var/log/kmps/kubelet.log /var/log/kmps/containerd.log /var/log/kmps/device-plugin.log'; }
  in_node "$n" crictl version 2>&1 | tail -2
done
KT=60 kmps status --name "$NAME" --json >"$ART/status-k8s.json"; cat "$ART/status-k8s.json" | head -c 2500; echo
access=$(json '",".join(n["mpsAccess"] for n in d["nodes"] if n["gpu"])' <"$ART/status-k8s.json")
[ $ok3 = 1 ] && [ "$access" = "cdi,cdi" ] && pass "kubelet + containerd + plugin ready in both; mpsAccess $access" ||
  fail "kubelet ready: $ok3; mpsAccess '$access'"

# =====================================================================================
step 4 "Pods from kindmps-api pod run CUDA through the node's MPS"
ok4=1; msg4=
mkdir -p "$W/pods"
before=$(count $W1 'NEW CLIENT')
kmps pod vadd --name "$NAME" --node $W1 --image "$CLIENT_IMAGE" --access cdi -- vadd >"$W/pods/vadd.yaml" || ok4=0
cat "$W/pods/vadd.yaml"
pod_put $W1 vadd "$W/pods/vadd.yaml"
if id=$(pod_wait $W1 vadd 45); then
  out=$(pod_logs $W1 "$id"); echo "vadd Pod: $out"
  grep -q "vadd ok" <<<"$out" || { ok4=0; msg4+="vadd failed; "; }
else ok4=0; msg4+="vadd Pod did not finish; "; PODS_DEAD=1; fi
new=$(( $(count $W1 'NEW CLIENT') - before ))
echo "NEW CLIENT lines: +$new"; mpslog $W1 | tail -n 8
[ "$new" -ge 1 ] || { ok4=0; msg4+="no NEW CLIENT; "; }
mpslog $W1 | grep -q "NEW CLIENT .* from user 1000" || msg4+="(no client of uid 1000?) "
# A long client and one at 25 % of the threads, at the same time; status while they run.
kmps pod long --name "$NAME" --node $W1 --image "$CLIENT_IMAGE" --access cdi -- mps_client --seconds 12 --label long >"$W/pods/long.yaml"
kmps pod quarter --name "$NAME" --node $W1 --image "$CLIENT_IMAGE" --access cdi --threads 25 -- mps_client --seconds 2 --label quarter >"$W/pods/quarter.yaml"
pod_put $W1 long "$W/pods/long.yaml"; pod_put $W1 quarter "$W/pods/quarter.yaml"
[ -n "${PODS_DEAD:-}" ] || { pod_wait $W1 long 60 running >/dev/null && sleep 3; }
rec_start status "kindmps-api status while Pods' CUDA clients run through MPS."
KT=60 kmps status --name "$NAME" --json >"$ART/status-pods.json"; KT=60 kmps status --name "$NAME" >"$ART/status-pods.txt"
rec_stop
cat "$ART/status-pods.txt"
pods=$(json '" ".join(sorted(str(p) for n in d["nodes"] for c in n["mps"]["clients"] for p in c["pods"]))' <"$ART/status-pods.json")
nclients=$(json 'sum(len(c["clients"]) for n in d["nodes"] for c in n["mps"]["clients"])' <"$ART/status-pods.json")
echo "status: $nclients clients; pods: $pods"
[ "${nclients:-0}" -ge 1 ] || { ok4=0; msg4+="status shows no client; "; }
srv=$(kmps mps --name "$NAME" --node $W1 get_server_list | head -1)
kmps mps --name "$NAME" --node $W1 get_client_list "$srv"
kmps mps --name "$NAME" --node $W1 get_active_thread_percentage "$srv"
if [ -z "${PODS_DEAD:-}" ] && id=$(pod_wait $W1 quarter 60); then q=$(pod_logs $W1 "$id"); echo "quarter: $q"; fi
if [ -z "${PODS_DEAD:-}" ] && id=$(pod_wait $W1 long 60); then l=$(pod_logs $W1 "$id"); echo "long: $l"; fi
sms_q=$(json 'd["sms"]' <<<"$(grep '^{' <<<"${q:-}" | tail -1)"); sms_l=$(json 'd["sms"]' <<<"$(grep '^{' <<<"${l:-}" | tail -1)")
echo "SMs seen: --threads 25 Pod $sms_q, unlimited Pod $sms_l"
[ -n "$sms_q" ] && [ -n "$sms_l" ] && [ "$sms_q" -lt "$sms_l" ] || { ok4=0; msg4+="the 25 % Pod saw $sms_q SMs (unlimited: $sms_l); "; }
pods_clear $W1
[ $ok4 = 1 ] && pass "vadd ok through MPS (+$new NEW CLIENT); status: $nclients clients ($pods); SMs $sms_q at 25 % vs $sms_l ${msg4}" || fail "$msg4"

# =====================================================================================
[ -z "${PODS_DEAD:-}" ] || { echo "no Pod ran: the steps that need Pods are left out"; trap - EXIT; finish; exit 1; }
step 5 "a Pod cannot take MPS away from the others"
ok5=1
pct0=$(kmps mps --name "$NAME" --node $W1 get_default_active_thread_percentage)
kmps pod evil --name "$NAME" --node $W1 --image "$CLIENT_IMAGE" --access cdi -- sh -c \
  'id; ls -l /tmp/nvidia-mps; for c in quit "set_default_active_thread_percentage 10" "set_default_device_pinned_mem_limit 0 1G" "start_server -uid 4242" get_server_list; do echo "> $c"; echo "$c" | nvidia-cuda-mps-control; echo "rc=$?"; done; s=$(echo get_server_list | nvidia-cuda-mps-control | head -1); echo "> shutdown_server $s"; echo "shutdown_server $s 0" | nvidia-cuda-mps-control; echo "> terminate_client $s 0"; echo "terminate_client $s 0" | nvidia-cuda-mps-control' >"$W/pods/evil.yaml"
pod_put $W1 evil "$W/pods/evil.yaml"
if id=$(pod_wait $W1 evil 60); then evil=$(pod_logs $W1 "$id"); echo "$evil"; else ok5=0; fi
sleep 1
pct1=$(kmps mps --name "$NAME" --node $W1 get_default_active_thread_percentage)
KT=60 kmps status --name "$NAME" --json >"$ART/status-evil.json"; kmps status --name "$NAME"
alive=$(json '[n["mps"]["control"]["running"] for n in d["nodes"] if n["name"] == "'$W1'"][0]' <"$ART/status-evil.json")
refused=$(json '[n["mps"]["control"]["refusedCommands"] for n in d["nodes"] if n["name"] == "'$W1'"][0]' <"$ART/status-evil.json")
echo "daemon running: $alive; percentage $pct0 -> $pct1; refused: $refused"
mpslog $W1 | tail -n 30
[ "$alive" = True ] && [ "$pct0" = "$pct1" ] && [ "${refused:-0}" -ge 2 ] || ok5=0
pods_clear $W1
# The pinned-memory read-back's format, from root in the node (what up would send).
kmps mps --name "$NAME" --node $W1 set_default_device_pinned_mem_limit 0 2G
kmps mps --name "$NAME" --node $W1 get_default_device_pinned_mem_limit 0 | sed 's/^/pinned read-back: /'
kmps mps --name "$NAME" --node $W1 set_default_device_pinned_mem_limit 0 0
[ $ok5 = 1 ] && pass "daemon runs, percentage $pct1 unchanged, $refused refusals counted" || fail "alive=$alive pct $pct0->$pct1 refused=$refused"

# =====================================================================================
step 6 "two GPU nodes, two daemons, one GPU: both serve their Pods at the same time"
ok6=1
b1=$(count $W1 'NEW CLIENT'); b2=$(count $W2 'NEW CLIENT')
for n in $W1 $W2; do
  kmps pod both --name "$NAME" --node $n --image "$CLIENT_IMAGE" --access cdi -- mps_client --seconds 4 --label "$n" >"$W/pods/both-$n.yaml"
  pod_put $n both "$W/pods/both-$n.yaml"
done
for n in $W1 $W2; do
  if id=$(pod_wait $n both 90); then r=$(pod_logs $n "$id"); echo "$n: $r"; grep -q '"ok":true' <<<"$r" || ok6=0; else ok6=0; fi
  kmps mps --name "$NAME" --node $n get_server_list | sed "s/^/$n server: /"
done
a1=$(( $(count $W1 'NEW CLIENT') - b1 )); a2=$(( $(count $W2 'NEW CLIENT') - b2 ))
echo "NEW CLIENT: $W1 +$a1, $W2 +$a2"; mpslog $W2 | tail -n 12
nvidia-smi 2>/dev/null | tail -n 12
for n in $W1 $W2; do pods_clear $n; done
[ $ok6 = 1 ] && [ $a1 -ge 1 ] && [ $a2 -ge 1 ] && pass "both daemons served (+$a1, +$a2)" || fail "ok=$ok6, NEW CLIENT +$a1/+$a2"

# =====================================================================================
step bench "sharing benchmark through Pods (kindmps-api pod --patch), MPS against time-slicing"
# bench_run DIR MODE K BLOCKS [THREADS_PCT]: K Pods on worker at a barrier, then results/DIR/MODE-kK-cI.json.
bench_run() {
  local dir=$1 mode=$2 k=$3 blocks=$4 pct=${5:-} run="$1-$2-k$3" i
  local bar=$RW/bar/$run; mkdir -p "$bar" "$W/res/$dir"; chmod 777 "$bar"
  local pre=""; [ "$mode" = timeslice ] && pre="CUDA_MPS_PIPE_DIRECTORY=/nonexistent-kmps "
  for i in $(seq "$k"); do
    cat >"$W/pods/b.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $run-c$i
spec:
  restartPolicy: Never
  containers:
  - name: $run-c$i
    image: $CLIENT_IMAGE
    command: [sh, -c, '${pre}exec mps_client --label c$i --seconds $BENCH_S --blocks $blocks --threads 128 --spin-us 20 --barrier-dir /bar']
    volumeMounts:
    - name: bar
      mountPath: /bar
  volumes:
  - name: bar
    hostPath:
      path: /kmps-rw/bar/$run
      type: Directory
YAML
    kmps pod --patch "$W/pods/b.yaml" --name "$NAME" --node $W1 --access cdi ${pct:+--threads $pct} >"$W/pods/b$i.yaml" 2>/dev/null || return 1
    pod_put $W1 "$run-c$i" "$W/pods/b$i.yaml"
  done
  for _ in $(seq 300); do [ "$(ls "$bar" | grep -c '^ready\.')" -ge "$k" ] && break; sleep 0.1; done
  echo "$(( $(date +%s) + 1 ))" >"$bar/go.tmp" && mv "$bar/go.tmp" "$bar/go"
  for i in $(seq "$k"); do
    if id=$(pod_wait $W1 "$run-c$i" $((BENCH_S + 60))); then pod_logs $W1 "$id" | grep '^{' | tail -1 >"$W/res/$dir/$mode-k$k-c$i.json"; fi
  done
  pods_clear $W1
  echo "$run: $(cat "$W/res/$dir"/$mode-k$k-c*.json 2>/dev/null | "$KMPS_PYTHON" -c 'import sys,json; print(" ".join(str(json.loads(l)["kps"]) for l in sys.stdin if l.strip()))') kernels/s per client"
}
bench_ok=1
c0=$(count $W1 'NEW CLIENT')
for k in $BENCH_KS; do
  [ "$(left)" -gt 60 ] || { echo "budget: stopping the small-kernel runs before K=$k"; bench_ok=0; break; }
  bench_run small timeslice "$k" 2 && c1=$(count $W1 'NEW CLIENT') && bench_run small mps "$k" 2
  c2=$(count $W1 'NEW CLIENT'); echo "K=$k: NEW CLIENT +$((c1 - c0)) time-sliced, +$((c2 - c1)) MPS"; c0=$c2
done
# A second shape: 66 blocks of 128 threads per kernel, about half of the H200's 132 SMs per client.
for k in 1 2 4; do
  [ "$(left)" -gt 45 ] || { echo "budget: stopping the half-GPU runs before K=$k"; bench_ok=0; break; }
  bench_run half timeslice "$k" 66 && bench_run half mps "$k" 66
done
[ "$(left)" -gt 30 ] && bench_run pct50 mps 2 66 50 || bench_ok=0
agg() { "$KMPS_PYTHON" "$SRC/bench/gpu/aggregate.py" "$W/res/$1" --json "$W/res/$1.json" --md "$W/res/$1.md" --title "$2"; }
agg small "$GPU_NAME, driver $DRIVER, $(date -u +%F): Pods, 2 blocks x 128 threads, spin 20 us, $BENCH_S s per run"
agg half "$GPU_NAME, driver $DRIVER, $(date -u +%F): Pods, 66 blocks x 128 threads (half the SMs), spin 20 us, $BENCH_S s per run"
agg pct50 "$GPU_NAME, driver $DRIVER, $(date -u +%F): 2 Pods at --threads 50, 66 blocks x 128 threads"
cat "$W/res"/{small,half,pct50}.md > "$OUT/bench.md" 2>/dev/null; cat "$OUT/bench.md"
"$KMPS_PYTHON" -c 'import json,sys; print(json.dumps({k: json.load(open(f"'"$W/res"'/{k}.json")) for k in ("small","half","pct50")}, indent=1))' >"$OUT/bench.json" 2>/dev/null
tar -C "$W/res" -cf "$ART/bench-clients.tar" . 2>/dev/null
[ $bench_ok = 1 ] && pass "bench done" || fail "bench cut short or failed (see above)"

# =====================================================================================
step 7 "down"
collect_logs
rec_start down "kindmps-api down of the two-GPU-node cluster."
KT=120 kmps down --name "$NAME" --kind "$K/bin/kind"; rc=$?
rec_stop
left_nodes=$(docker ps -aq --filter label=io.x-k8s.kind.cluster=$NAME | wc -l)
[ $rc = 0 ] && [ "$left_nodes" = 0 ] && pass "no node left" || fail "down exit $rc, $left_nodes nodes left"
