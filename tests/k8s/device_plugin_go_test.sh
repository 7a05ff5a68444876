#!/bin/bash
# The Go tests of the node image's device plugin (tools/node-image/device-plugin: the spec it
# reads, its devices per GPU, Allocate and the preferred allocation), with the Go that
# tools/node-image builds it with and the modules that build fetched (nothing is fetched here).
# Exit 77 (ctest: skipped) without that Go or those modules, or with KMPS_K8S=0;
# KMPS_K8S_REQUIRE=1 turns a skip into a failure.
set -uo pipefail
skip() {
  if [ "${KMPS_K8S_REQUIRE:-0}" = 1 ]; then echo "FAIL: $1"; exit 1; fi
  echo "SKIP: $1"; exit 77
}
[ "${KMPS_K8S:-1}" != 0 ] || skip "KMPS_K8S=0 leaves the node image's tests out"
here=$(cd "$(dirname "$0")/../../tools/node-image" && pwd)
. "$here/lib.sh"
go=
for g in /usr/local/go/bin/go "$(command -v go || true)" "$(kmps_cache_dir)/go-trixie/usr/lib/go-1.24/bin/go"; do
  [ -x "$g" ] && go_is_new_enough "$g" && { go=$g; break; }
done
[ -n "$go" ] || skip "no Go >= 1.24 (tools/node-image/build.sh installs one)"
cd "$here/device-plugin"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=readonly
"$go" list -deps -test . >/dev/null 2>&1 || skip "the device plugin's Go modules are not in the module cache (tools/node-image/build.sh fetches them)"
exec "$go" test -count=1 -v .
