#!/bin/bash
# Installs (if missing) and starts Docker Engine 26 from Debian trixie's packages beside the
# Debian 12 engine (20.10) of tools/setup-docker.sh: real kind needs it, because kind runs its
# nodes --privileged and only 26 grants that within these VMs' capability bounding set.
# The .debs are unpacked with dpkg -x under the kindmps cache; the engine has its own socket,
# data root and exec root. Idempotent; prints the socket path.
#   tools/setup-docker26.sh            -> /run/kmps-docker26/docker.sock
#   tools/setup-docker26.sh --stop     stops that engine
#   tools/setup-docker26.sh --cli      prints the path of its docker CLI (installing it if missing)
# Env: KMPS_CACHE_DIR (default ~/.cache/kindmps), KMPS_DOCKER26_DATA (default /var/lib/kmps-docker26)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/trixie-apt.sh"
cache=${KMPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kindmps}
root=$cache/docker26/root
run=/run/kmps-docker26
sock=$run/docker.sock
data=${KMPS_DOCKER26_DATA:-/var/lib/kmps-docker26}
log=/var/log/kmps-dockerd26.log
[ "$(id -u)" = 0 ] || { echo "setup-docker26: must run as root (it starts dockerd)" >&2; exit 3; }

alive() { curl -s --max-time 3 --unix-socket "$sock" http://localhost/_ping 2>/dev/null | grep -q OK; }

if [ "${1:-}" = --stop ]; then
  pid=$(cat "$run/docker.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || exit 0
  for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
  echo "setup-docker26: dockerd $pid did not stop within 60 s" >&2; exit 1
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
  if [ -f "$run/docker.pid" ] && ! kill -0 "$(cat "$run/docker.pid")" 2>/dev/null; then rm -f "$run/docker.pid"; fi
  if [ ! -f "$run/docker.pid" ]; then
    # dockerd starts its own containerd (trixie's, first on PATH) under the exec root; runc is
    # Debian 12's. No iptables, no bridge, vfs: what works in these VMs.
    setsid "$root/usr/sbin/dockerd" --host "unix://$sock" --data-root "$data" --exec-root "$run/exec" \
      --pidfile "$run/docker.pid" --iptables=false --ip6tables=false --bridge=none \
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
