#!/bin/bash
# The whole GPU end-to-end run (issue 6) in one command, on a GPU machine with the NVIDIA driver and
# no Docker: real driver, real MPS, the project's stand-in kind, recorded API traffic, and the MPS
# sharing benchmark. See docs/gpu-e2e.md.
#
#   (as root, from the repo root, with the kit from tools/device/make-kit.sh at .device/kit)
#   OUT=/some/dir bash tools/device/gpu-e2e.sh
#
# Writes at most 8 files to $OUT: gpu-e2e.log (everything, step by step), summary.txt,
# inspect.json, kind-config.yaml, bench.json, bench.md, cassettes.tar.gz (one cassette per phase,
# named for the GPU: h100-e2e-up.json ...), artifacts.tar.gz (every other output: inspect text,
# up/status JSON, ps, MPS logs, each benchmark client's JSON, dockerd log).
# Env: KMPS_KIT (.device/kit), KMPS_E2E_BUDGET_S (510: steps are skipped past it),
#      KMPS_BENCH_SECONDS (5), KMPS_BENCH_KS ("1 2 4 8"), KMPS_BENCH_BLOCKS (2),
#      KMPS_BENCH_THREADS (128), KMPS_BENCH_SPIN_US (20), KMPS_E2E_GPU_NODES (worker),
#      KMPS_E2E_GPUS (all; one-per-node: the worker gets GPU 0 and its daemon its UUID, issue 15),
#      KMPS_E2E_DAEMONS (perNode; perGpu: a daemon per GPU, the pods on the first GPU's, in
#      /tmp/nvidia-mps/gpuN, issue 15).
# Test hooks (tools/device/local-test.sh, on a machine without a GPU): KMPS_E2E_DEVICES (the
# device nodes given to nodes and pods), KMPS_E2E_FAKE_CUDA=1 (shell stand-ins for the CUDA programs).
set -uo pipefail
export LC_ALL=C
T0=$(date +%s%N)
OUT=${OUT:?OUT must name the output directory}
mkdir -p "$OUT"
KIT_SRC=$(realpath "${KMPS_KIT:-.device/kit}")
SRC=$(pwd)
W=/tmp/kmps-e2e
rm -rf "$W"; mkdir -p "$W/art" "$W/cassettes" "$W/bench" "$W/kit"
ART=$W/art
K=$W/kit                       # unpacked kmps.tar.xz: bin/, lib/, libexec/, bench/
NAME=gpu-e2e
IMAGE=kindest-fake:gpu
STATE=/var/lib/kmps/$NAME      # host dirs shared with nodes and pods
PIPE_HOST=$STATE/pipe
BUDGET=${KMPS_E2E_BUDGET_S:-510}
BENCH_S=${KMPS_BENCH_SECONDS:-5}
BENCH_KS=${KMPS_BENCH_KS:-1 2 4 8}
BENCH_BLOCKS=${KMPS_BENCH_BLOCKS:-2}
BENCH_THREADS=${KMPS_BENCH_THREADS:-128}
BENCH_SPIN=${KMPS_BENCH_SPIN_US:-20}
GPU_NODES=${KMPS_E2E_GPU_NODES:-worker}
DEVICES=${KMPS_E2E_DEVICES:-/dev/nvidia0,/dev/nvidiactl,/dev/nvidia-uvm,/dev/nvidia-uvm-tools}
SOCK=/var/run/docker.sock
REC_SOCK=$W/rec.sock
KMPS_DOCKER_HOST=unix://$SOCK
REC_PID=
declare -A RESULT NOTE
# tee ignores INT/TERM: `timeout` signals the whole process group, and the summary must still be logged.
exec > >(trap '' INT TERM; exec tee -a "$OUT/gpu-e2e.log") 2>&1
TEE_PID=$!

source "$SRC/tools/device/steps.sh"
# run [TIMEOUT] CMD...: logs the command, its output, rc and time.
run() {
  local tmo=60; [[ $1 =~ ^[0-9]+$ ]] && { tmo=$1; shift; }
  local t; t=$(now_ms); echo "+ $*" >&2
  timeout "$tmo" "$@"; local rc=$?
  echo "  [rc=$rc, $(( $(now_ms) - t )) ms]" >&2; return $rc
}
# kmps ARGS...: our CLI, with the kit's libraries, through the recorder when one runs.
kmps() {
  local t; t=$(now_ms); echo "+ kindmps-api $*  [DOCKER_HOST=$KMPS_DOCKER_HOST]" >&2
  LD_LIBRARY_PATH=$K/lib DOCKER_HOST=$KMPS_DOCKER_HOST timeout "${KT:-120}" "$K/bin/kindmps-api" "$@"
  local rc=$?; echo "  [kindmps-api rc=$rc, $(( $(now_ms) - t )) ms]" >&2; return $rc
}
# cap FILE CMD...: CMD's stdout into $ART/FILE and the log, stderr into the log; returns CMD's rc.
cap() { local f=$ART/$1; shift; "$@" >"$f"; local rc=$?; cat "$f"; return $rc; }

# ---- recorder: one cassette per phase ----
rec_start() {  # PHASE DESCRIPTION
  local f=$W/cassettes/$SLUG-e2e-$1.json
  if [ ! -x "$K/bin/kmps-recorder" ]; then echo "no kmps-recorder in the kit: not recording $1"; return 1; fi
  rm -f "$REC_SOCK"
  LD_LIBRARY_PATH=$K/lib "$K/bin/kmps-recorder" --listen "$REC_SOCK" --upstream "$SOCK" --out "$f" \
    --description "$2 Recorded by tools/device/gpu-e2e.sh on $GPU_NAME, driver $DRIVER, $(date -u +%F)." \
    >>"$ART/recorder.log" 2>&1 &
  REC_PID=$!
  for _ in $(seq 100); do [ -S "$REC_SOCK" ] && break; sleep 0.05; done
  if [ -S "$REC_SOCK" ]; then KMPS_DOCKER_HOST=unix://$REC_SOCK; echo "recording $1 -> $(basename "$f")"; return 0; fi
  echo "kmps-recorder did not listen on $REC_SOCK: $(tail -2 "$ART/recorder.log")"; rec_stop; return 1
}
rec_stop() {
  KMPS_DOCKER_HOST=unix://$SOCK
  [ -n "$REC_PID" ] || return 0
  kill -INT "$REC_PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$REC_PID" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$REC_PID" 2>/dev/null && { echo "recorder $REC_PID did not stop on SIGINT: killing it"; kill -KILL "$REC_PID"; }
  wait "$REC_PID" 2>/dev/null; REC_PID=
}

finish() {
  trap - EXIT INT TERM
  if [ -n "${INTERRUPTED:-}" ]; then
    [ -z "${CUR:-}" ] || [ -n "${RESULT[$CUR]:-}" ] || { RESULT[$CUR]=INTERRUPTED; NOTE[$CUR]="at t=$(el)s"; }
  fi
  rec_stop
  hdr "SUMMARY"
  {
    echo "gpu-e2e on ${GPU_NAME:-?} (driver ${DRIVER:-?}, CUDA ${CUDA_VER:-?}), $(date -u +%FT%TZ), $(el) s"
    for s in 0 1 2 3 4 5 6 bench; do
      echo "STEP $s: ${RESULT[$s]:-NOT RUN} ${NOTE[$s]:-}"
    done
  } | tee "$OUT/summary.txt"
  # Leftovers, in case a step died half-way: bench pods, then the cluster's nodes.
  # Twice: a `docker run -d` cut short by the signal may still create its container.
  if [ -S "$SOCK" ] && command -v docker >/dev/null; then
    for _ in 1 2; do
      docker ps -aq --filter label=kmps-e2e=1 | xargs -r docker rm -f >/dev/null 2>&1
      docker ps -aq --filter label=io.x-k8s.kind.cluster=$NAME | xargs -r docker rm -f -v >/dev/null 2>&1
      [ -z "${INTERRUPTED:-}" ] || sleep 2
    done
  fi
  if [ -f /var/run/docker.pid ] && [ -n "${DOCKERD_STARTED:-}" ]; then
    kill "$(cat /var/run/docker.pid)" 2>/dev/null
  fi
  if [ ! -s "$OUT/bench.json" ] && ls "$W"/bench/*-k*-c*.json >/dev/null 2>&1; then  # cut short
    cp "$W"/bench/* "$ART/" 2>/dev/null
    "${KMPS_PYTHON:-python3}" "$SRC/bench/gpu/aggregate.py" "$W/bench" --json "$OUT/bench.json" \
      --md "$OUT/bench.md" --title "PARTIAL (run cut short): ${GPU_NAME:-?}, driver ${DRIVER:-?}"
  fi
  cp /var/log/kmps-dockerd.log "$ART/dockerd.log" 2>/dev/null
  tar -C "$W/cassettes" -czf "$OUT/cassettes.tar.gz" . 2>/dev/null
  tar -C "$ART" -czf "$OUT/artifacts.tar.gz" . 2>/dev/null
  ls -la "$OUT"
  exec >&- 2>&-; wait "$TEE_PID" 2>/dev/null || sleep 1
}
trap finish EXIT
trap 'INTERRUPTED=1; echo "!!! interrupted at t=$(el)s"; exit 124' INT TERM

# =====================================================================================
step 0 "host facts, kit, dockerd, node image, CUDA programs"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
CUDA_VER=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: \([0-9.]*\).*/\1/p' | head -1)
SLUG=$(echo "$GPU_NAME" | grep -oiE '\b[A-Z]+[0-9]{2,}[A-Z]*\b' | head -1 | tr 'A-Z' 'a-z'); SLUG=${SLUG:-gpu}
echo "GPU: $GPU_NAME | driver $DRIVER | CUDA $CUDA_VER | slug $SLUG | $(date -u +%FT%TZ)"
echo "host: $(. /etc/os-release; echo "$PRETTY_NAME") | kernel $(uname -r) | $(nproc) cores"
nvidia-smi -L; nvidia-smi --query-gpu=compute_mode,clocks.sm,clocks.max.sm,memory.used --format=csv
ls -la /dev/nvidia* 2>&1 | head; ls -la /usr/local/nvidia/bin 2>&1 | head -20
ldconfig -p | grep -E 'libcuda\.|libnvidia-ml\.' | head
for p in python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
  if "$p" -c 'import yaml' 2>/dev/null; then KMPS_PYTHON=$(command -v "$p"); break; fi
done
export KMPS_PYTHON=${KMPS_PYTHON:-python3}; echo "python with PyYAML: $KMPS_PYTHON"
cat "$KIT_SRC/MANIFEST.txt" 2>/dev/null
ok0=1
run 60 tar -C "$K" -xJf "$KIT_SRC/kmps.tar.xz" || ok0=0
mkdir -p "$W/dockerbin"
xz -dc "$KIT_SRC/docker.xz" >"$W/dockerbin/docker" && chmod +x "$W/dockerbin/docker" || ok0=0
# $K/bin: kind (the stand-in's wrapper) for `up --kind` and for `down`, which finds kind in PATH.
export PATH=$K/bin:$W/dockerbin:/opt/kmps-docker/bin:$PATH
kmps --version || { ok0=0; LD_LIBRARY_PATH=$K/lib ldd "$K/bin/kindmps-api" | grep 'not found'; }
echo "ps for docker top: $(command -v ps || echo MISSING)"
# Compile the CUDA programs here (in the background, while dockerd starts); fall back to the kit's.
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
mkdir -p "$W/cuda"
nvcc_pids=()
if [ -x "$NVCC" ] && [ "${KMPS_E2E_FAKE_CUDA:-0}" != 1 ]; then
  for p in vadd mps_client; do
    ( "$NVCC" -O2 -arch=sm_90 -cudart static -o "$W/cuda/$p" "$SRC/bench/gpu/$p.cu" >"$W/cuda/$p.log" 2>&1 ) &
    nvcc_pids+=($!)
  done
fi
pid_docker_start=$(date +%s%N)
if [ -S "$SOCK" ]; then echo "a Docker engine already answers on $SOCK"; else DOCKERD_STARTED=1; fi
run 90 bash "$SRC/tools/device/start-bundled-dockerd.sh" "$KIT_SRC/docker-bundle.tar.xz" || ok0=0
for _ in $(seq 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
docker version --format 'docker engine {{.Server.Version}} (API {{.Server.APIVersion}}), CLI {{.Client.Version}}' || ok0=0
echo "dockerd up after $(( ($(date +%s%N) - pid_docker_start) / 1000000 )) ms"
[ ${#nvcc_pids[@]} = 0 ] || wait "${nvcc_pids[@]}"  # never a bare wait: it would wait for tee too
if [ "${KMPS_E2E_FAKE_CUDA:-0}" = 1 ]; then  # test hook: same interface, no GPU
  # They note themselves in the pipe directory's control.log (the test double's MPS log) if any.
  printf '#!/bin/sh\nlog=${CUDA_MPS_PIPE_DIRECTORY:-/none}/control.log\n[ -f $log ] && echo "NEW CLIENT 0 from user 0" >>$log\necho "vadd ok value=1.0 (fake)"\n' >"$W/cuda/vadd"
  cat >"$W/cuda/mps_client" <<'EOF'
#!/bin/sh
secs=1 label=client bar=
while [ $# -gt 0 ]; do case $1 in --seconds) secs=$2;; --label) label=$2;; --barrier-dir) bar=$2;; esac; shift 2; done
log=${CUDA_MPS_PIPE_DIRECTORY:-/none}/control.log
[ -f "$log" ] && echo "NEW CLIENT 0 from user 0" >>"$log"
[ -z "$bar" ] || { echo ready >"$bar/ready.$label"; while [ ! -s "$bar/go" ]; do sleep 0.05; done; }
sleep "$secs"
echo "{\"label\":\"$label\",\"kernels\":1000,\"seconds\":$secs,\"kps\":200.0,\"mean_us\":50.0,\"p50_us\":45.0,\"p90_us\":60.0,\"p99_us\":90.0,\"max_us\":99.0,\"late_ms\":0.0,\"ok\":true}"
EOF
  chmod +x "$W/cuda/vadd" "$W/cuda/mps_client"
fi
for p in vadd mps_client; do
  if [ -x "$W/cuda/$p" ]; then echo "$p: compiled here with $("$NVCC" --version | tail -1)"
  else cat "$W/cuda/$p.log" 2>/dev/null; cp "$K/bench/$p" "$W/cuda/$p" 2>/dev/null && echo "$p: using the kit's prebuilt copy"; fi
  [ -x "$W/cuda/$p" ] || { echo "no $p"; ok0=0; }
done
# The node image: a stand-in for kind's node image (which cannot reach this machine): static
# busybox, the host's glibc and C++ runtime (what the driver's binaries and our CUDA programs need;
# the driver itself comes in through the kind config's mounts), and the two CUDA programs.
r=$W/rootfs; mkdir -p "$r"/{bin,sbin,etc,tmp,proc,sys,dev,run,root,var/log,usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,opt/kmps-bench}
chmod 1777 "$r/tmp"
ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
BUSYBOX=/opt/kmps-docker/bin/busybox; [ -x $BUSYBOX ] || BUSYBOX=$(command -v busybox)
cp "$BUSYBOX" "$r/bin/busybox"
for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"; echo "root:x:0:" >"$r/etc/group"
cp "$W/cuda/vadd" "$W/cuda/mps_client" "$r/opt/kmps-bench/" 2>/dev/null
libs=$(for b in "$W/cuda/vadd" "$W/cuda/mps_client" /usr/local/nvidia/bin/nvidia-cuda-mps-control \
          /usr/local/nvidia/bin/nvidia-cuda-mps-server /usr/local/nvidia/bin/nvidia-smi \
          "$(readlink -f /usr/local/nvidia/lib64/libcuda.so.1)"; do ldd "$b" 2>/dev/null; done |
       awk '$3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | grep -Ev 'nvidia|cuda' | sort -u)
for l in $libs /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6 \
         /lib/x86_64-linux-gnu/libpthread.so.0 /lib/x86_64-linux-gnu/libdl.so.2 \
         /lib/x86_64-linux-gnu/librt.so.1 /lib/x86_64-linux-gnu/libstdc++.so.6 \
         /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
  [ -e "$l" ] && cp -L "$l" "$r/usr/lib/x86_64-linux-gnu/$(basename "$l")"
done
ln -sf ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$r/usr/lib64/ld-linux-x86-64.so.2"
echo "node image libraries: $(cd "$r/usr/lib/x86_64-linux-gnu" && echo *)"
tar -C "$r" -cf "$W/rootfs.tar" . &&
  run 120 docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["sleep", "2147483647"]' "$W/rootfs.tar" "$IMAGE" || ok0=0
docker images
[ $ok0 = 1 ] && pass "engine, kit and image ready" || fail "setup incomplete (see above)"

# =====================================================================================
step 1 "kindmps-api inspect finds the real driver"
KT=60 kmps inspect >"$ART/inspect.txt" 2>"$ART/inspect.err"; rc1=$?; cat "$ART/inspect.txt" "$ART/inspect.err"
KT=60 kmps inspect --json >"$OUT/inspect.json" 2>>"$ART/inspect.err"; rc1j=$?; head -c 4000 "$OUT/inspect.json"; echo
# Stub or compat paths may legitimately show as rejected candidates: reported, judged by reading.
odd=$(grep -ohE '[^" ]*/(stubs|compat)/[^" ]*' "$OUT/inspect.json" "$ART/inspect.txt" | sort -u | head -3 | tr '\n' ' ')
if [ $rc1 = 0 ] && [ $rc1j = 0 ] && grep -q "libcuda.so.$DRIVER" "$OUT/inspect.json"; then
  pass "libcuda.so.$DRIVER found${odd:+ (stub/compat paths mentioned: $odd)}"
else
  fail "inspect rc=$rc1/$rc1j; libcuda.so.$DRIVER $(grep -q "libcuda.so.$DRIVER" "$OUT/inspect.json" && echo found || echo MISSING)${odd:+; stub/compat paths: $odd}"
fi

# =====================================================================================
step 2 "kindmps-api config from the real host"
# mps.daemons perGpu: the pods use the first GPU's daemon, in its own pipe and log directories.
DAEMONS=${KMPS_E2E_DAEMONS:-perNode}
SUB=
if [ "$DAEMONS" = perGpu ]; then
  SUB=/gpu$("$KMPS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["gpus"][0]["minor"])' "$OUT/inspect.json" 2>/dev/null || echo 0)
fi
rm -rf "$STATE"; mkdir -p "$PIPE_HOST"
case $GPU_NODES in all) gpu_yaml="[]";; *) gpu_yaml="[\"$GPU_NODES\"]";; esac
# extraMounts go to every node, and one pipe directory serves one MPS control daemon: so the GPU
# (MPS) node is the worker, and the control-plane is a plain node, as in most clusters.
cat >"$W/kindmps.yaml" <<EOF
apiVersion: kindmps.dev/v1alpha1
kind: Config
name: $NAME
image: $IMAGE
workers: 1
gpuNodes: $gpu_yaml
shmSize: 8g
extraMounts:
  - hostPath: $PIPE_HOST
    containerPath: /tmp/nvidia-mps
    readOnly: false
mps:
  pipeDirectory: /tmp/nvidia-mps
  logDirectory: /var/log/nvidia-mps
  startServer: true
  serverUid: 0
  daemons: $DAEMONS
gpus: ${KMPS_E2E_GPUS:-all}
EOF
cp "$W/kindmps.yaml" "$ART/kindmps.yaml"; cat "$W/kindmps.yaml"
KT=60 kmps config --config "$W/kindmps.yaml" --output "$OUT/kind-config.yaml"; rc2=$?
cat "$OUT/kind-config.yaml" 2>/dev/null
if [ $rc2 = 0 ] && grep -q 'libcuda.so.1' "$OUT/kind-config.yaml" && grep -q 'nvidia-cuda-mps-control' "$OUT/kind-config.yaml"; then
  pass "kind config with the driver mounts"
else fail "config rc=$rc2 or no libcuda.so.1 / nvidia-cuda-mps-control mounts"; fi

# =====================================================================================
step 3 "kindmps-api up, status, ps (real nvidia-cuda-mps-control in the GPU nodes)"
rec_start up "kindmps-api up --json on a real $SLUG host: cluster $NAME (control-plane + GPU worker) made by the stand-in kind, /dev/shm remount to 8g, MPS control daemon started, start_server -uid 0, verified with top."
export KMPS_FAKE_KIND_DEVICES=$DEVICES KMPS_FAKE_KIND_IMAGE=$IMAGE KMPS_FAKE_KIND_IPC=shareable
KT=240 cap up.json kmps up --config "$W/kindmps.yaml" --name $NAME --kind "$K/bin/kind" --json; rc3=$?
rec_stop
NODES=$(docker ps -a --filter label=io.x-k8s.kind.cluster=$NAME --format '{{.Names}}' | sort)
echo "nodes: $NODES"
case $GPU_NODES in all) GNODES=$NODES;; *) GNODES=$(echo "$NODES" | grep -- "-$GPU_NODES\$");; esac
NODE=$(echo "$GNODES" | head -1)
rec_start status "kindmps-api status --json and ps of each node, right after up, on a real $SLUG host (real MPS control daemon and server)."
KT=60 cap status.json kmps status --name $NAME --json; rc3s=$?
for n in $NODES; do KT=30 cap "ps-$n.txt" kmps ps "$n"; done
rec_stop
ok3=1; why3=
[ $rc3 = 0 ] || { ok3=0; why3+="up rc=$rc3; "; }
[ $rc3s = 0 ] || { ok3=0; why3+="status rc=$rc3s; "; }
[ -n "$NODE" ] || { ok3=0; why3+="no GPU node; "; }
for n in $GNODES; do
  top=$(docker top "$n" -eo pid,ppid,stat,args 2>&1); echo "--- docker top $n"; echo "$top"
  echo "$top" | grep -q 'nvidia-cuda-mps-control -d' || { ok3=0; why3+="$n: no control daemon; "; }
  echo "$top" | grep -q 'nvidia-cuda-mps-server' || { ok3=0; why3+="$n: no MPS server; "; }
  shm=$(docker exec "$n" df -k /dev/shm | awk 'NR==2 {print $2}'); echo "$n /dev/shm: ${shm:-?} KiB"
  [ "${shm:-0}" -ge $((8 * 1024 * 1024)) ] || { ok3=0; why3+="$n: /dev/shm ${shm:-?} KiB; "; }
  ipc=$(docker inspect -f '{{.HostConfig.IpcMode}}' "$n"); echo "$n IpcMode: $ipc"
  [ "$ipc" = shareable ] || { ok3=0; why3+="$n: IpcMode $ipc (pods cannot join); "; }
  docker exec "$n" ls -la /tmp/nvidia-mps$SUB /var/log/nvidia-mps$SUB
  # gpus: not all (issue 15): the node keeps its GPUs' device nodes only, and its daemon serves
  # them by UUID (CUDA_VISIBLE_DEVICES), as inspect.json names them.
  vis=$(docker exec "$n" sh -c 'for p in /proc/[0-9]*; do [ "$(tr "\0" " " <$p/cmdline 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] && tr "\0" "\n" <$p/environ; done' | sed -n 's/^CUDA_VISIBLE_DEVICES=//p')
  echo "$n: daemon CUDA_VISIBLE_DEVICES=${vis:-(unset)}; device nodes: $(docker exec "$n" sh -c 'ls /dev/nvidia[0-9]*' | tr '\n' ' ')"
  if [ "${KMPS_E2E_GPUS:-all}" != all ]; then
    uuids=$("$KMPS_PYTHON" -c 'import json,sys; print(",".join(g["uuid"] for g in json.load(open(sys.argv[1]))["gpus"]))' "$OUT/inspect.json" 2>/dev/null)
    case ",$uuids," in *",$vis,"*) [ -n "$vis" ] || { ok3=0; why3+="$n: no CUDA_VISIBLE_DEVICES; "; } ;;
      *) ok3=0; why3+="$n: CUDA_VISIBLE_DEVICES '$vis' is no GPU of inspect.json ($uuids); " ;; esac
  fi
done
[ $ok3 = 1 ] && pass "daemon + server in: $(echo $GNODES); /dev/shm 8g" || fail "$why3"

# =====================================================================================
# Pods: containers with only the GPU device nodes and the driver files the node has (same mounts).
gpu_args=(--label kmps-e2e=1 --network none)
for d in ${DEVICES//,/ }; do gpu_args+=(--device "$d"); done
if [ -n "$NODE" ]; then
  while read -r m; do [ -n "$m" ] && gpu_args+=(-v "$m"); done < <(docker inspect "$NODE" | "$KMPS_PYTHON" -c '
import json, sys
for m in json.load(sys.stdin)[0]["Mounts"]:
    if m["Type"] == "bind" and not m["RW"] and m["Destination"].startswith("/usr/"):
        print("%s:%s:ro" % (m["Source"], m["Destination"]))')
fi
mps_args=(--ipc "container:$NODE" -v "$PIPE_HOST:/tmp/nvidia-mps" -e CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps$SUB)
plain_args=(-e CUDA_MPS_PIPE_DIRECTORY=/tmp/no-mps-daemon-here)
echo "pod GPU args: ${gpu_args[*]}"
mps_clients() { local n; n=$(docker exec "$NODE" grep -c 'NEW CLIENT' /var/log/nvidia-mps$SUB/control.log 2>/dev/null); echo "${n:-0}"; }  # grep -c prints 0 and exits 1 on no match

step 4 "a pod joined to the node's IPC namespace and pipe directory runs CUDA through MPS"
if [ -z "$NODE" ]; then skip "no GPU node"; else
  c0=$(mps_clients)
  run 60 docker run --rm --name kmps-pod-vadd "${gpu_args[@]}" "${mps_args[@]}" $IMAGE /opt/kmps-bench/vadd | tee "$ART/pod-vadd.txt"
  rc4=${PIPESTATUS[0]}
  # A longer client, to catch it attached: server list, client list, ps through our CLI.
  docker run -d --name kmps-pod-probe "${gpu_args[@]}" "${mps_args[@]}" $IMAGE \
    /opt/kmps-bench/mps_client --seconds 4 --label probe >/dev/null
  sleep 2
  rec_start pod "kindmps-api mps get_server_list / get_client_list, ps and exec (cat the MPS logs) on node $NODE while a pod container (IPC namespace and pipe directory of the node, GPU device nodes only) runs a CUDA client through the node's real MPS server, $SLUG host."
  KT=30 cap pod-server-list.txt kmps mps --name $NAME --node "$NODE" get_server_list
  spid=$(grep -oE '^[0-9]+' "$ART/pod-server-list.txt" | head -1)
  KT=30 cap pod-client-list.txt kmps mps --name $NAME --node "$NODE" get_client_list "${spid:-0}"
  KT=30 cap pod-ps.txt kmps ps "$NODE"
  docker wait kmps-pod-probe >/dev/null; docker logs kmps-pod-probe >"$ART/pod-probe.txt" 2>&1; docker rm kmps-pod-probe >/dev/null
  cat "$ART/pod-probe.txt"
  KT=30 cap server.log kmps exec "$NODE" -- cat /var/log/nvidia-mps$SUB/server.log
  KT=30 cap control.log kmps exec "$NODE" -- cat /var/log/nvidia-mps$SUB/control.log
  rec_stop
  c1=$(mps_clients)
  echo "NEW CLIENT lines in control.log: $c0 -> $c1; client list of server ${spid:-?}: $(tr '\n' ' ' <"$ART/pod-client-list.txt")"
  if [ "${rc4:-1}" = 0 ] && grep -q 'vadd ok' "$ART/pod-vadd.txt" && [ "$c1" -gt "$c0" ] &&
     { [ -s "$ART/pod-client-list.txt" ] || grep -q 'connected' "$ART/server.log"; }; then
    pass "vadd ok in the pod through MPS server ${spid:-?}; client list: $(head -c 60 "$ART/pod-client-list.txt" | tr '\n' ' ')"
  else
    fail "vadd rc=${rc4:-?}, NEW CLIENT $c0->$c1, client list '$(head -c 60 "$ART/pod-client-list.txt" | tr '\n' ' ')'"
  fi
fi

# =====================================================================================
CUR=bench; STEP_T0=$(now_ms); hdr "BENCHMARK: K clients, each in its own pod, with the node's MPS vs time-slicing"
echo "kernels of $BENCH_BLOCKS x $BENCH_THREADS threads spinning $BENCH_SPIN us; $BENCH_S s per run; K in $BENCH_KS"
bench_run() {  # MODE K
  local mode=$1 k=$2 i bar=$STATE/barrier-$1-$2 names=() t
  rm -rf "$bar"; mkdir -p "$bar"
  local extra=("${plain_args[@]}"); [ "$mode" = mps ] && extra=("${mps_args[@]}")
  local c0; c0=$(mps_clients)
  local pids=()
  for i in $(seq 0 $((k - 1))); do
    names+=("kmps-bench-$mode-k$k-c$i")
    docker run -d --name "kmps-bench-$mode-k$k-c$i" "${gpu_args[@]}" "${extra[@]}" -v "$bar:/barrier" $IMAGE \
      /opt/kmps-bench/mps_client --seconds "$BENCH_S" --blocks "$BENCH_BLOCKS" --threads "$BENCH_THREADS" \
      --spin-us "$BENCH_SPIN" --barrier-dir /barrier --label "$mode-k$k-c$i" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
  t=$(now_ms)
  for _ in $(seq 600); do
    [ "$(find "$bar" -name 'ready.*' | wc -l)" -ge "$k" ] && break
    [ "$(docker ps -q --filter label=kmps-e2e=1 --filter status=running | wc -l)" -lt "$k" ] && break
    sleep 0.05
  done
  echo "$(find "$bar" -name 'ready.*' | wc -l)/$k ready after $(( $(now_ms) - t )) ms"
  awk -v t="$(date +%s.%N)" 'BEGIN { printf "%.6f\n", t + 0.2 }' >"$bar/go.tmp" && mv "$bar/go.tmp" "$bar/go"
  timeout $((BENCH_S + 60)) docker wait "${names[@]}" >/dev/null
  for n in "${names[@]}"; do
    docker logs "$n" >"$W/bench/${n#kmps-bench-}.json" 2>"$W/bench/${n#kmps-bench-}.err"
    docker rm -f "$n" >/dev/null 2>&1
  done
  local c1; c1=$(mps_clients)
  echo "$mode K=$k: NEW CLIENT lines in the node's control.log +$((c1 - c0)) (MPS clients)"
  echo "{\"mode\":\"$mode\",\"k\":$k,\"mps_new_client_lines\":$((c1 - c0))}" >>"$W/bench/mps-evidence.jsonl"
  cat "$W"/bench/"$mode"-k"$k"-c*.json; cat "$W"/bench/"$mode"-k"$k"-c*.err 2>/dev/null | head -5
}
if [ -z "$NODE" ] || [ ! -x "$W/cuda/mps_client" ]; then skip "no GPU node or no mps_client"; else
  nvidia-smi --query-gpu=clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv,noheader
  for k in $BENCH_KS; do
    need=$(( 2 * (BENCH_S + 8 + k) + 45 ))
    if [ "$(left)" -lt "$need" ]; then echo "skipping K=$k and above: $(left) s left, need $need"; break; fi
    for mode in timeslice mps; do bench_run "$mode" "$k"; done
  done
  nvidia-smi --query-gpu=clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv,noheader
  cp "$W"/bench/*.json "$W"/bench/*.err "$W/bench/mps-evidence.jsonl" "$ART/" 2>/dev/null
  title="$GPU_NAME, driver $DRIVER, CUDA $CUDA_VER, $(date -u +%F): $BENCH_BLOCKS blocks x $BENCH_THREADS threads, spin $BENCH_SPIN us, $BENCH_S s per run"
  "$KMPS_PYTHON" "$SRC/bench/gpu/aggregate.py" "$W/bench" --json "$OUT/bench.json" --md "$OUT/bench.md" --title "$title"
  rcb=$?
  "$KMPS_PYTHON" - "$W/bench/mps-evidence.jsonl" "$OUT/bench.json" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
doc = json.load(open(sys.argv[2])); doc["mps_evidence"] = ev
json.dump(doc, open(sys.argv[2], "w"), indent=1)
EOF
  bad_ts=$(grep -c '"mode":"timeslice".*"mps_new_client_lines":[1-9]' "$W/bench/mps-evidence.jsonl")
  bad_mps=$(grep -c '"mode":"mps".*"mps_new_client_lines":0' "$W/bench/mps-evidence.jsonl")
  if [ $rcb = 0 ] && [ "$bad_ts" = 0 ] && [ "$bad_mps" = 0 ]; then pass "all clients ok; MPS runs went through MPS, time-slice runs did not"
  else fail "aggregate rc=$rcb; time-slice runs seen by MPS: $bad_ts; MPS runs not seen by MPS: $bad_mps"; fi
fi

# =====================================================================================
step 5 "kindmps-api mps commands and down against the real daemon"
if [ -z "$NODE" ]; then skip "no GPU node"; else
  rec_start mps "kindmps-api mps commands on node $NODE against the real MPS control daemon ($SLUG host): get/set_default_active_thread_percentage, get_server_list, get_server_status, an unknown command, --all get_server_list."
  KT=30 cap mps-get-atp.txt kmps mps --name $NAME --node "$NODE" get_default_active_thread_percentage; a1=$?
  KT=30 cap mps-set-atp.txt kmps mps --name $NAME --node "$NODE" set_default_active_thread_percentage 50; a2=$?
  KT=30 cap mps-get-atp2.txt kmps mps --name $NAME --node "$NODE" get_default_active_thread_percentage; a3=$?
  KT=30 cap mps-set-atp100.txt kmps mps --name $NAME --node "$NODE" set_default_active_thread_percentage 100
  KT=30 cap mps-servers.txt kmps mps --name $NAME --node "$NODE" get_server_list; a4=$?
  spid=$(grep -oE '^[0-9]+' "$ART/mps-servers.txt" | head -1)
  KT=30 cap mps-server-status.txt kmps mps --name $NAME --node "$NODE" get_server_status "${spid:-0}"
  KT=30 cap mps-unknown.txt kmps mps --name $NAME --node "$NODE" help; echo "(unknown command: rc=$?)"
  KT=30 cap mps-all.txt kmps mps --name $NAME --all get_server_list; a5=$?
  rec_stop
  rec_start down "kindmps-api down on a real $SLUG host: MPS quit in each GPU node, then the stand-in kind deletes cluster $NAME; then status on the deleted cluster."
  KT=120 cap down.txt kmps down --name $NAME; d1=$?
  KT=30 cap status-after-down.txt kmps status --name $NAME --json; echo "(status after down: rc=$?)"
  rec_stop
  left_nodes=$(docker ps -a --filter label=io.x-k8s.kind.cluster=$NAME --format '{{.Names}}' | wc -l)
  if [ $a1 = 0 ] && [ $a2 = 0 ] && [ $a3 = 0 ] && [ $a4 = 0 ] && [ $a5 = 0 ] && grep -q '50' "$ART/mps-get-atp2.txt" &&
     [ $d1 = 0 ] && [ "$left_nodes" = 0 ]; then
    pass "mps commands ok (atp $(tr -d '\n' <"$ART/mps-get-atp.txt") -> $(tr -d '\n' <"$ART/mps-get-atp2.txt")); down removed every node"
  else fail "mps rc=$a1/$a2/$a3/$a4/$a5, atp after set: '$(tr -d '\n' <"$ART/mps-get-atp2.txt")', down rc=$d1, nodes left: $left_nodes"; fi
fi

# =====================================================================================
step 6 "cassettes"
rec_stop
ls -la "$W/cassettes"
n6=$(find "$W/cassettes" -name "$SLUG-e2e-*.json" -size +100c | wc -l)
for f in "$W"/cassettes/*.json; do
  [ -f "$f" ] && echo "$(basename "$f"): $(grep -c '"method"' "$f") interactions"
done
[ "$n6" -ge 5 ] && pass "$n6 cassettes ($SLUG-e2e-{up,status,pod,mps,down}.json)" || fail "only $n6 cassettes of 5"
