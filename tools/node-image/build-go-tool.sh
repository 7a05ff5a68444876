#!/bin/bash
# Builds one Go command that `go install` can build as it is (no replace directives), static and
# stripped, from the Go module proxy: CoreDNS and crictl for the node image.
#   tools/node-image/build-go-tool.sh OUTDIR PACKAGE@VERSION
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
. "$here/lib.sh"
out=${1:?usage: build-go-tool.sh OUTDIR PACKAGE@VERSION}
pkg=${2:?usage: build-go-tool.sh OUTDIR PACKAGE@VERSION}
need_go
mkdir -p "$out.tmp"
GOBIN="$out.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$pkg" ||
  die "could not build $pkg from the Go module proxy"
rm -rf "$out"; mv "$out.tmp" "$out"
