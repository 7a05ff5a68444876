# Sourced by the real-cluster suites (tests/k8s/*_test.sh BUILD_DIR) after they set $name, the
# cluster's name: skips (exit 77) what this machine cannot run, points docker and kind at Docker
# Engine 26, makes $work (removed on exit, with the cluster and the client image), and defines the
# checks (ok, bad, expect, has, eq, json), kubectl (the control plane's own) and load_client_image.
# Exit 77 (ctest: skipped) when the node image is not built and KMPS_K8S_BUILD is not 1, or
# without root. KMPS_K8S_REQUIRE=1 turns every skip into a failure.
: "${name:?the suite sets name before it sources lib.sh}"
build=$(realpath "${1:?build dir}")
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cli=$build/src/cli/kindmps-api
emu=$build/tools/mps-emu

skip() {
  if [ "${KMPS_K8S_REQUIRE:-0}" = 1 ]; then echo "FAIL: $1"; exit 1; fi
  echo "SKIP: $1"; exit 77
}
[ "${KMPS_K8S:-1}" != 0 ] || { echo "SKIP: KMPS_K8S=0 leaves the real-cluster suite out"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (Docker 26 engine, mknod for the fake host)"
sock=$("$src/tools/setup-docker26.sh") || skip "Docker Engine 26 could not be started (tools/setup-docker26.sh)"
kind=$("$src/tools/build-kind.sh") || skip "real kind could not be built (tools/build-kind.sh)"
build_flag=--cached-only; [ "${KMPS_K8S_BUILD:-0}" = 1 ] && build_flag=
image=$("$src/tools/node-image/build.sh" $build_flag | tail -1)
[ -n "$image" ] || skip "the node image is not built (tools/node-image/build.sh; KMPS_K8S_BUILD=1 builds it here)"

export DOCKER_HOST=unix://$sock
export PATH="$(dirname "$("$src/tools/setup-docker26.sh" --cli)"):$PATH"   # kind drives the docker CLI
work=$(mktemp -d /tmp/kmps-k8s.XXXXXX)
export KUBECONFIG=$work/kubeconfig KMPS_STATE_DIR=$work/state
client_image=kindmps.dev/mps-emu-client:test-$$
cleanup() {
  "$kind" delete cluster --name "$name" >/dev/null 2>&1
  docker rm -f "$name-control-plane" >/dev/null 2>&1
  docker rmi "$client_image" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

passed=0; failed=0
ok() { passed=$((passed+1)); echo "ok   - $1"; }
bad() { failed=$((failed+1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "$2" | tail -20 | sed 's/^/       /'; }
expect() { # CODE DESCRIPTION -- COMMAND...   (stdout in $out, stderr in $err)
  local want=$1 what=$2; shift 3
  out=$("$@" 2>"$work/err"); local rc=$?; err=$(cat "$work/err")
  if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, wanted $want" "$out
$err"; fi
}
has() { if grep -q -- "$2" <<<"$3"; then ok "$1"; else bad "$1: no '$2' in" "$3"; fi; }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: '$2' != '$3'"; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
kubectl() { docker exec -i "$name-control-plane" kubectl "$@"; }   # the node's own kubectl and admin.conf

# A client image (busybox, the MPS emulator's client and control, uid 1000 in /etc/passwd) that
# kind loads into every node: no registry is reached.
load_client_image() {
  local w=$work/client-image
  mkdir -p "$w/bin" "$w/tmp" "$w/etc"
  cp /bin/busybox "$w/bin/"; for a in sh cat ls sleep grep id; do ln -s busybox "$w/bin/$a"; done
  cp "$emu/mps-emu-client" "$emu/nvidia-cuda-mps-control" "$w/bin/"
  printf 'root:x:0:0:root:/root:/bin/sh\nmps:x:1000:1000:mps:/tmp:/bin/sh\n' > "$w/etc/passwd"
  tar -C "$w" -cf "$w.tar" . && docker import -c 'ENV PATH=/bin' "$w.tar" "$client_image" >/dev/null &&
    docker save -o "$work/client.tar" "$client_image"
  expect 0 "kind load image-archive puts the client image into the nodes" -- \
    "$kind" load image-archive "$work/client.tar" --name "$name"
}
echo "# node image $image, kind $("$kind" version | cut -d' ' -f2), Docker $(docker version -f '{{.Server.Version}}')"
