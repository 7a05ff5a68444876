#!/bin/bash
# Builds the kindmps node image, or finds it in the cache: a kind-compatible node image made with
# no container registry, from Debian packages (trixie root file system, containerd 1.7, runc, CNI
# plugins, systemd) and Go modules (Kubernetes K8S_VERSION, etcd, kindmps-netd, kindmps-device-plugin), with every image
# kubeadm needs preloaded into the node's containerd under the names `kubeadm config images list`
# prints. The image's tag carries a content key over everything it is made from, so a second
# build is a lookup.
#   tools/node-image/build.sh                last stdout line: the image reference
#   tools/node-image/build.sh --cached-only  the reference if the image is built, else exit 3
# Env: DOCKER_HOST (default: the Docker 26 engine of tools/setup-docker26.sh), KMPS_CACHE_DIR,
#      KMPS_NODE_IMAGE_REASSEMBLE=1 (assemble again even when the image is there; for benchmarks).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
. "$here/lib.sh"
cache=$(kmps_cache_dir)
export DOCKER_HOST=${DOCKER_HOST:-unix:///run/kmps-docker26/docker.sock}
docker=$cache/docker26/root/usr/bin/docker
[ -x "$docker" ] || docker=$(command -v docker) || die "no docker CLI (run tools/setup-docker26.sh)"
dk() { "$docker" "$@"; }
dk version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "no Docker engine answers at $DOCKER_HOST (start it with tools/setup-docker26.sh)"

hash_files() { (cd "$here" && find "$@" -type f ! -name '*~' | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-12; }
key=$(hash_files versions.env packages.txt build.sh build-rootfs.sh build-k8s.sh build-etcd.sh build-go-tool.sh lib.sh files netd device-plugin pause)
ref=kindmps/node:$K8S_VERSION-$key
old_id=$(dk image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)
if [ -n "$old_id" ] && [ "${KMPS_NODE_IMAGE_REASSEMBLE:-0}" != 1 ]; then
  log "cached: $ref"
  echo "$ref"; exit 0
fi
[ "${1:-}" = --cached-only ] && { log "not built yet: $ref"; exit 3; }

t0=$SECONDS
step() { log "[$((SECONDS - t0))s] $*"; }
work=$(mktemp -d /var/tmp/kmps-node-image.XXXXXX)
builder=kmps-node-build-$$
cleanup() { dk rm -f "$builder" >/dev/null 2>&1 || true; dk rmi "kindmps/node-base:$key" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# 1. The pieces, each cached under a key of what makes it: its script, lib.sh, the versions it
#    is built at and the Go toolchain. A new key builds the piece again and drops the old one.
need_go
gov=$(go env GOVERSION)
key_of() { { echo "$1"; shift; (cd "$here" && cat "$@"); } | sha256sum | cut -c1-8; }
keep_only() { local d; for d in "$(dirname "$1")"/*; do [ "$d" = "$1" ] || rm -rf "$d"; done; }
rootfs=$cache/node-image/rootfs-$DEBIAN_SUITE-$(key_of "$DEBIAN_SUITE $DEBIAN_MIRROR" packages.txt build-rootfs.sh lib.sh).tar
mkdir -p "$cache/node-image"
if [ ! -f "$rootfs" ]; then
  step "root file system ($DEBIAN_SUITE, debootstrap)"; "$here/build-rootfs.sh" "$rootfs"; keep_only "$rootfs"
fi
kbin=$cache/k8s/$K8S_VERSION-$(key_of "$K8S_VERSION $K8S_STAGING_VERSION $gov" build-k8s.sh lib.sh)
if [ ! -x "$kbin/kubeadm" ]; then
  step "Kubernetes $K8S_VERSION from Go modules"; "$here/build-k8s.sh" "$kbin" >&2; keep_only "$kbin"
fi
ebin=$cache/etcd/$ETCD_VERSION-$(key_of "$ETCD_VERSION $gov" build-etcd.sh lib.sh)
if [ ! -x "$ebin/etcd" ]; then
  step "etcd $ETCD_VERSION from Go modules"; "$here/build-etcd.sh" "$ebin" >&2; keep_only "$ebin"
fi
dbin=$cache/coredns/$COREDNS_VERSION-$(key_of "$COREDNS_VERSION $gov" build-go-tool.sh lib.sh)
if [ ! -x "$dbin/coredns" ]; then
  step "CoreDNS $COREDNS_VERSION from Go modules"
  "$here/build-go-tool.sh" "$dbin" "github.com/coredns/coredns@$COREDNS_VERSION"; keep_only "$dbin"
fi
cbin=$cache/crictl/$CRICTL_VERSION-$(key_of "$CRICTL_VERSION $gov" build-go-tool.sh lib.sh)
if [ ! -x "$cbin/crictl" ]; then
  step "crictl $CRICTL_VERSION from Go modules"
  "$here/build-go-tool.sh" "$cbin" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"; keep_only "$cbin"
fi
step "kindmps-netd, kindmps-device-plugin and pause"
(cd "$here/netd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/kindmps-netd" .)
(cd "$here/device-plugin" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/kindmps-device-plugin" .)
gcc -static -O2 -Wall -Wextra -Werror -o "$work/pause" "$here/pause/pause.c"

# 2. The images kubeadm and the node's CNI run, one layer each, named as kubeadm lists them.
step "component images"
images=()
mkimage() { # NAME:TAG DIR [docker import --change ...]
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$2/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$2/etc/group"
  tar -C "$2" --numeric-owner -cf "$2.tar" .
  dk import -c 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "${@:3}" "$2.tar" "$1" >/dev/null
  images+=("$1")
}
layer() { local d=$work/layer-$1; mkdir -p "$d/usr/local/bin" "$d/etc" "$d/tmp"; chmod 1777 "$d/tmp"; echo "$d"; }
r=$work/rootfs; mkdir -p "$r"; tar -C "$r" -xf "$rootfs"
# Copies binaries of the root file system, with the libraries they load, into a layer.
with_libs() { # LAYER BIN...
  local d=$1 b f dep; shift
  for b in "$@"; do
    f=$(chroot "$r" sh -c "command -v $b") || die "$b is not in the root file system"
    for dep in "$f" $(chroot "$r" ldd "$f" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
      mkdir -p "$d$(dirname "$dep")"
      cp "$r$(chroot "$r" readlink -f "$dep")" "$d$dep"
    done
  done
}
for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  d=$(layer "$c"); cp "$kbin/$c" "$d/usr/local/bin/"
  if [ "$c" = kube-proxy ]; then
    with_libs "$d" xtables-legacy-multi xtables-nft-multi conntrack
    mkdir -p "$d/usr/sbin" "$d/usr/lib/x86_64-linux-gnu"
    cp -a "$r/usr/lib/x86_64-linux-gnu/xtables" "$d/usr/lib/x86_64-linux-gnu/"
    for t in iptables ip6tables; do for s in "" -save -restore; do
      ln -sf xtables-nft-multi "$d/usr/sbin/$t$s"; ln -sf xtables-legacy-multi "$d/usr/sbin/$t-legacy$s"; ln -sf xtables-nft-multi "$d/usr/sbin/$t-nft$s"
    done; done
  fi
  mkimage "registry.k8s.io/$c:$K8S_VERSION" "$d"
done
d=$(layer etcd); cp "$ebin/etcd" "$d/usr/local/bin/"; mkdir -p "$d/var/lib/etcd"
mkimage "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" "$d"
d=$(layer coredns); cp "$dbin/coredns" "$d/coredns"
mkimage "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "$d" -c 'ENTRYPOINT ["/coredns"]'
d=$(layer pause); cp "$work/pause" "$d/pause"
mkimage "registry.k8s.io/pause:$PAUSE_IMAGE_TAG" "$d" -c 'ENTRYPOINT ["/pause"]' 
d=$(layer netd); cp "$work/kindmps-netd" "$d/usr/local/bin/"
mkimage "kindmps.dev/netd:$key" "$d" -c 'ENTRYPOINT ["/usr/local/bin/kindmps-netd"]' 
want=$("$kbin/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null) ||
  die "kubeadm config images list failed"
for i in $want; do
  printf '%s\n' "${images[@]}" | grep -qx "$i" || die "kubeadm lists $i, which the node image would not hold"
done
dk save -o "$work/images.tar" "${images[@]}"
for i in "${images[@]}"; do dk rmi "$i" >/dev/null; done

# 3. The node's root file system: packages, our files, Kubernetes' node binaries.
step "node root file system"
cp -a "$here/files/." "$r/"
sed -i "s/@NETD_TAG@/$key/" "$r/kind/manifests/default-cni.yaml"
grep -q "sandbox_image = \"registry.k8s.io/pause:$PAUSE_IMAGE_TAG\"" "$r/etc/containerd/config.toml" ||
  die "files/etc/containerd/config.toml names another pause image than $PAUSE_IMAGE_TAG"
for b in kubelet kubeadm kubectl; do install -m 0755 "$kbin/$b" "$r/usr/bin/$b"; done
install -m 0755 "$cbin/crictl" "$r/usr/bin/crictl"
install -m 0755 "$work/kindmps-device-plugin" "$r/usr/local/bin/kindmps-device-plugin"
echo "$K8S_VERSION" > "$r/kind/version"
mkdir -p "$r/etc/kubernetes/manifests" "$r/opt/cni/bin" "$r/etc/cni/net.d" "$r/var/lib/kubelet"
for p in "$r"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "$p")" "$r/opt/cni/bin/"; done
chroot "$r" systemctl enable containerd.service kubelet.service kindmps-device-plugin.service >/dev/null 2>&1
chroot "$r" systemctl mask systemd-binfmt.service >/dev/null 2>&1
rm -f "$r/etc/machine-id"; : > "$r/etc/machine-id"
tar -C "$r" --numeric-owner -cf "$work/node.tar" .
rm -rf "$r"
dk import -c 'ENV container=docker' -c 'STOPSIGNAL SIGRTMIN+3' \
  -c 'ENTRYPOINT ["/usr/bin/containerd"]' "$work/node.tar" "kindmps/node-base:$key" >/dev/null
rm -f "$work/node.tar"

# 4. Preload: containerd of the node itself imports the images into its k8s.io namespace.
step "preloading ${#images[@]} images into the node's containerd"
dk run -d --privileged --name "$builder" "kindmps/node-base:$key" >/dev/null
for _ in $(seq 60); do dk exec "$builder" ctr version >/dev/null 2>&1 && break; sleep 0.5; done
dk cp "$work/images.tar" "$builder:/images.tar"
dk exec "$builder" ctr -n k8s.io images import /images.tar >&2
for i in "${images[@]}"; do
  # containerd names docker.io images without a domain; ours all have one.
  dk exec "$builder" ctr -n k8s.io images label "$i" io.cri-containerd.pinned=pinned >/dev/null
done
dk exec "$builder" rm /images.tar
listed=$(dk exec "$builder" ctr -n k8s.io images ls -q | sort)
for i in "${images[@]}"; do grep -qx "$i" <<<"$listed" || die "$i is missing from the node's containerd after import"; done
dk stop -t 5 "$builder" >/dev/null
dk commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change "LABEL dev.kindmps.node-image.key=$key dev.kindmps.kubernetes=$K8S_VERSION" \
  "$builder" "$ref" >/dev/null
# Older builds of this Kubernetes version (other keys, or the image this one replaces) go, unless
# a node still uses them; node images of other Kubernetes versions stay.
keep=$(dk image inspect -f "{{.Id}}" "$ref")
for i in $(dk images --no-trunc --filter "label=dev.kindmps.kubernetes=$K8S_VERSION" -q | sort -u); do
  [ "$i" = "$keep" ] || dk rmi "$i" >/dev/null 2>&1 || true
done
step "built $ref ($(dk image inspect -f '{{.Size}}' "$ref" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
echo "$ref"
