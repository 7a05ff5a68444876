#!/bin/bash
# Installs (if missing) and starts a Docker engine the way that works in these VMs, and builds the
# local test image. Idempotent; used by the README, .ci/run and the tests.
#   tools/setup-docker.sh            -> prints the socket path on success
# Env: KMPS_TEST_IMAGE (default kmps-test:busybox), DOCKER_SOCK (default /var/run/docker.sock)
set -euo pipefail
image=${KMPS_TEST_IMAGE:-kmps-test:busybox}
sock=${DOCKER_SOCK:-/var/run/docker.sock}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && file -L /bin/busybox 2>/dev/null | grep -q static || need+=(busybox-static)
command -v file >/dev/null || need+=(file)
command -v pgrep >/dev/null || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

alive() { curl -s --max-time 3 --unix-socket "$sock" http://localhost/_ping 2>/dev/null | grep -q OK; }

if ! alive; then
  # A daemon killed earlier leaves its pid file behind and the next one refuses to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    $SUDO rm -f /var/run/docker.pid
  fi
  # Not `pgrep dockerd`: the Docker 26 engine of tools/setup-docker26.sh may run beside this one.
  if [ ! -f /var/run/docker.pid ]; then
    $SUDO bash -c "setsid dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
      >/var/log/kmps-dockerd.log 2>&1 < /dev/null &"
  fi
  for _ in $(seq 120); do alive && break; sleep 0.5; done
  if ! alive; then
    echo "setup-docker: dockerd did not answer on $sock; last log lines:" >&2
    tail -20 /var/log/kmps-dockerd.log >&2 || true
    exit 1
  fi
fi

if ! docker image inspect "$image" >/dev/null 2>&1; then
  w=$(mktemp -d)
  mkdir -p "$w/bin" "$w/usr/bin" "$w/tmp" "$w/var/log" "$w/etc" "$w/proc" "$w/sys" "$w/dev"
  cp /bin/busybox "$w/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$w/bin/$a"; done
  echo "root:x:0:0:root:/root:/bin/sh" > "$w/etc/passwd"
  echo "root:x:0:" > "$w/etc/group"
  tar -C "$w" -cf "$w.tar" .
  docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$w.tar" "$image" >/dev/null
  rm -rf "$w" "$w.tar"
fi
echo "$sock"
