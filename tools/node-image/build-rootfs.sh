#!/bin/bash
# Makes the Debian root file system of the node image with debootstrap (no registry, no base
# image): DEBIAN_SUITE minbase plus packages.txt, then trimmed the way a container's init wants.
#   tools/node-image/build-rootfs.sh OUT.tar
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
. "$here/lib.sh"
out=${1:?usage: build-rootfs.sh OUT.tar}
command -v debootstrap >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
pkgs=$(grep -v '^\s*#' "$here/packages.txt" | xargs | tr ' ' ,)
r=$(mktemp -d /var/tmp/kmps-rootfs.XXXXXX)
trap 'rm -rf "$r"' EXIT
log "debootstrap $DEBIAN_SUITE (minbase + $(echo "$pkgs" | tr , ' ' | wc -w) packages)"
debootstrap --variant=minbase --include="$pkgs" "$DEBIAN_SUITE" "$r" "$DEBIAN_MIRROR" >"$r.log" 2>&1 ||
  { tail -20 "$r.log" >&2; die "debootstrap of $DEBIAN_SUITE failed (log: $r.log)"; }
rm -f "$r.log"
# A container's systemd: no getty, no udev sockets, nothing wanted by default but what we enable.
rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
      "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
      "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
find "$r"/lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
echo "ReadKMsg=no" >> "$r/etc/systemd/journald.conf"
ln -sf /lib/systemd/systemd "$r/sbin/init"
# Debian's containerd unit and config are replaced by ours (files/); no docs, no apt caches.
rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/* "$r"/var/cache/apt/* \
       "$r"/var/lib/apt/lists/* "$r"/var/log/*.log
tar -C "$r" --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
