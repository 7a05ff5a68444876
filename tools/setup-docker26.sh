#!/bin/bash
# Installs (if missing) and starts Docker Engine 26 from Debian trixie's packages beside the
# Debian 12 engine (20.10) of tools/setup-docker.sh: real kind needs it, because kind runs its
# nodes --privileged and only 26 grants that within these VMs' capability bounding set.
# The .debs are unpacked with dpkg -x under the kindmps cache; the engine has its own socket,
# data root and exec root. Idempotent; prints the socket path.
#   tools/setup-docker26.sh            -> /run/kmps-docker26/docker.sock
#   tools/setup-docker26.sh --stop     stops that engine
#   tools/setup-docker26.sh --cli      prints the path of its docker CLI (installing it if missing)
# Env: KMPS_CACHE_DIR (default ~/.cache/kindmps), KMPS_DOCKER26_DATA (default /var/lib/kmps-docker26),
#      KMPS_DOCKER26_RUN (default /run/kmps-docker26: socket, pid files, exec root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/trixie-apt.sh"
cache=${KMPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kindmps}
root=$cache/docker26/root
run=${KMPS_DOCKER26_RUN:-/run/kmps-docker26}
sock=$run/docker.sock
data=${KMPS_DOCKER26_DATA:-/var/lib/kmps-docker26}
log=/var/log/$(basename "$run").log
[ "$(id -u)" = 0 ] || { echo "setup-docker26: must run as root (it starts dockerd)" >&2; exit 3; }

alive() { curl -s --max-time 3 --unix-socket "$sock" http://localhost/_ping 2>/dev/null | grep -q OK; }
# The pid in FILE if that process is still BINARY (a stale pid file's number may be reused).
live_pid() {
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$2" ] && echo "$pid"
}
stop_pid() { # FILE BINARY
  local pid; pid=$(live_pid "$1" "$2") || return 0
  kill "$pid"
  for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  echo "setup-docker26: $2 ($pid) did not stop within 60 s" >&2; return 1
}

if [ "${1:-}" = --stop ]; then
  stop_pid "$run/docker.pid" "$root/usr/sbin/dockerd" && stop_pid "$run/containerd.pid" "$root/usr/bin/containerd"
  exit
fi

if [ ! -x "$root/usr/sbin/dockerd" ]; then
  command -v runc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null; }
  trixie_apt_init
  debs=$(mktemp -d)
  trixie_apt_download "$debs" docker.io docker-cli containerd tini
  rm -rf "$root.tmp"; mkdir -p "$root.tmp"
  for d in "$debs"/*.deb; do dpkg -x "$d" "$root.tmp"; done
  rm -rf "$debs" "$root"; mv "$root.tmp" "$root"
fi
export PATH="$root/usr/sbin:$root/usr/bin:$PATH"
if [ "${1:-}" = --cli ]; then echo "$root/usr/bin/docker"; exit 0; fi

if ! alive; then
  mkdir -p "$run" "$data"
  # A containerd of its own (trixie's 1.7), never the system's: on a Debian 12 with systemd,
  # docker.io's containerd.service owns /run/containerd, and dockerd would join it, sharing its
  # namespace with the 20.10 engine.
  ctrd=$run/containerd/containerd.sock
  if ! live_pid "$run/containerd.pid" "$root/usr/bin/containerd" >/dev/null; then
    mkdir -p "$run/containerd"
    printf 'version = 2\nroot = "%s"\nstate = "%s"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s"\n' \
      "$data/containerd" "$run/containerd" "$ctrd" > "$run/containerd.toml"
    setsid "$root/usr/bin/containerd" --config "$run/containerd.toml" >"$log.containerd" 2>&1 </dev/null &
    echo $! > "$run/containerd.pid"
    for _ in $(seq 60); do [ -S "$ctrd" ] && break; sleep 0.5; done
    [ -S "$ctrd" ] || { echo "setup-docker26: containerd did not start; last lines of $log.containerd:" >&2
                        tail -20 "$log.containerd" >&2; exit 1; }
  fi
  if ! live_pid "$run/docker.pid" "$root/usr/sbin/dockerd" >/dev/null; then
    rm -f "$run/docker.pid"
    # runc is Debian 12's. No iptables, no bridge, vfs: what works in these VMs.
    setsid "$root/usr/sbin/dockerd" --host "unix://$sock" --data-root "$data" --exec-root "$run/exec" \
      --containerd "$ctrd" --pidfile "$run/docker.pid" --iptables=false --ip6tables=false --bridge=none \
      --storage-driver=vfs --userland-proxy-path "$root/usr/sbin/docker-proxy" \
      --init-path "$root/usr/bin/docker-init" >"$log" 2>&1 </dev/null &
  fi
  for _ in $(seq 120); do alive && break; sleep 0.5; done
  if ! alive; then
    echo "setup-docker26: dockerd 26 did not answer on $sock; last lines of $log:" >&2
    tail -20 "$log" >&2 || true
    exit 1
  fi
fi
echo "$sock"
