#!/bin/bash
# Builds CoreDNS (github.com/coredns/coredns) at COREDNS_VERSION from Go modules: the cluster DNS
# that kubeadm deploys (registry.k8s.io/coredns/coredns).
#   tools/node-image/build-coredns.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
. "$here/lib.sh"
out=${1:?usage: build-coredns.sh OUTDIR}
need_go
mkdir -p "$out.tmp"
GOBIN="$out.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION" ||
  die "could not build github.com/coredns/coredns@$COREDNS_VERSION from the Go module proxy"
rm -rf "$out"; mv "$out.tmp" "$out"
"$out/coredns" -version | head -1
