#!/bin/bash
# What a Pod can do to the node's MPS control daemon (issue 11), measured on a GPU machine with the
# real driver: which control commands the daemon takes from root and from another uid, through
# `control` and through `control_privileged`, and whether a CUDA client still works with
# `control_privileged` masked (a bind of /dev/null over it, as the CDI edits and the hostPath
# access do). Writes $OUT/mps-access-probe.log; docs/pod.md records what it showed.
#
#   (as root, from the repo root, on the GPU machine)   OUT=/some/dir bash tools/device/mps-access-probe.sh
set -uo pipefail
export LC_ALL=C
OUT=${OUT:?OUT must name the output directory}
mkdir -p "$OUT"
exec > >(tee "$OUT/mps-access-probe.log") 2>&1
W=/tmp/kmps-probe
rm -rf "$W"; mkdir -p "$W/pipe" "$W/log" "$W/bin"
chmod 755 "$W"
export CUDA_MPS_PIPE_DIRECTORY=$W/pipe CUDA_MPS_LOG_DIRECTORY=$W/log
P=$W/pipe
UID2=${KMPS_PROBE_UID:-1000}
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)

echo "== host: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1) $(date -u +%FT%TZ)"
"$NVCC" -O2 -arch=sm_90 -cudart static -o "$W/bin/vadd" bench/gpu/vadd.cu || echo "nvcc failed"
chmod 755 "$W/bin" "$W/bin/vadd"

# as UID CMD...: runs CMD with uid and gid UID and no supplementary groups.
as() {
  local u=$1; shift
  if [ "$u" = 0 ]; then "$@"; return; fi
  python3 -c 'import os,sys; u=int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); os.execvp(sys.argv[2], sys.argv[2:])' "$u" "$@"
}
# masked CMD...: runs CMD in a mount namespace where control_privileged is /dev/null.
masked() { unshare -m --propagation private sh -c 'mount --bind /dev/null "$0/control_privileged" && exec "$@"' "$P" "$@"; }
daemon_alive() { pgrep -x nvidia-cuda-mps >/dev/null || pgrep -f 'nvidia-cuda-mps-control -d' >/dev/null && echo alive || echo GONE; }
# ctl WHO LINE...: one control command as WHO (root, uid, masked-root, masked-uid).
ctl() {
  local who=$1; shift
  local t0 t1 out rc
  t0=$(date +%s%N)
  case $who in
    root) out=$(printf '%s\n' "$*" | timeout 10 nvidia-cuda-mps-control 2>&1); rc=$? ;;
    uid) out=$(printf '%s\n' "$*" | timeout 10 python3 -c 'import os,sys; u=int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); os.execvp(sys.argv[2], sys.argv[2:])' "$UID2" nvidia-cuda-mps-control 2>&1); rc=$? ;;
    masked-root) out=$(printf '%s\n' "$*" | timeout 10 unshare -m --propagation private sh -c 'mount --bind /dev/null "$0/control_privileged" && exec nvidia-cuda-mps-control' "$P" 2>&1); rc=$? ;;
    masked-uid) out=$(printf '%s\n' "$*" | timeout 10 unshare -m --propagation private sh -c 'mount --bind /dev/null "$0/control_privileged" && exec python3 -c "import os,sys; u=int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); os.execvp(sys.argv[2], sys.argv[2:])" "$1" nvidia-cuda-mps-control' "$P" "$UID2" 2>&1); rc=$? ;;
  esac
  t1=$(date +%s%N)
  printf 'CMD %-11s %-45s rc=%-3s %4d ms | %s | daemon %s\n' "$who" "$*" "$rc" $(( (t1 - t0) / 1000000 )) \
    "$(echo "$out" | tr '\n' ' ' | cut -c1-160)" "$(daemon_alive)"
}

echo "== start the daemon as root"
nvidia-cuda-mps-control -d; echo "rc=$?"
sleep 0.5
ls -la "$P" "$W/log"
stat -c '%A %U:%G %F %n' "$P"/* "$W/log"/*

echo "== queries"
for who in root uid masked-root masked-uid; do
  ctl $who get_default_active_thread_percentage
  ctl $who get_server_list
done

echo "== CUDA clients (vadd), before any setting changes"
echo "-- root, masked:"; masked timeout 60 "$W/bin/vadd" 2>&1 | tail -2
echo "-- uid $UID2, masked (root's server must drain first; may wait):"
timeout 60 unshare -m --propagation private sh -c 'mount --bind /dev/null "$0/control_privileged" && exec python3 -c "import os,sys; u=int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); os.execvp(sys.argv[2], sys.argv[2:])" "$1" "$2"' "$P" "$UID2" "$W/bin/vadd" 2>&1 | tail -2
echo "rc=$?"
ctl root get_server_list
tail -n 20 "$W/log/control.log"

echo "== privileged commands from a Pod's point of view"
for who in uid masked-uid masked-root; do
  ctl $who set_default_active_thread_percentage 30
  ctl root get_default_active_thread_percentage
  ctl $who set_default_device_pinned_mem_limit 0 1G
  ctl root get_default_device_pinned_mem_limit 0
  ctl $who start_server -uid 4242
  ctl root get_server_list
done
ctl uid quit
ctl root get_server_list
ctl masked-uid quit
ctl root get_server_list
ctl masked-root quit
ctl root get_server_list
sleep 1
echo "== control.log after the attempts"
tail -n 40 "$W/log/control.log"
echo "== root quit"
ctl root quit
sleep 1
echo "daemon: $(daemon_alive)"
ls -la "$P"
