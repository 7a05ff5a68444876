#!/bin/bash
# Builds real kind (sigs.k8s.io/kind) at the pinned KIND_VERSION from the Go module proxy into the
# kindmps cache, once; prints the binary's path. The product itself calls whatever `kind` the user
# has: this binary is for the real-cluster tests and the demo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/node-image/versions.env"
. "$here/node-image/lib.sh"
dir=$(kmps_cache_dir)/kind/$KIND_VERSION
if [ ! -x "$dir/kind" ]; then
  need_go
  mkdir -p "$dir"
  GOBIN="$dir" CGO_ENABLED=0 go install "sigs.k8s.io/kind@$KIND_VERSION" >&2 ||
    die "could not build sigs.k8s.io/kind@$KIND_VERSION from the Go module proxy"
fi
echo "$dir/kind"
