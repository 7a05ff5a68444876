#!/bin/bash
# Builds etcd (the server, go.etcd.io/etcd/server/v3) at ETCD_VERSION from Go modules.
#   tools/node-image/build-etcd.sh OUTDIR
# Like Kubernetes, etcd's server module replaces its sibling modules with directories; a wrapper
# module points them at the published modules of the same version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
. "$here/lib.sh"
out=${1:?usage: build-etcd.sh OUTDIR}
need_go
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
emod=$(go_mod_of "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
{
  echo "module kindmps.dev/node-image/etcd"
  grep -E '^go ' "$emod"
  echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo "replace ("
  for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do echo "	go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $ETCD_VERSION"; done
  echo ")"
} > "$work/go.mod"
mkdir -p "$out.tmp"
build_in_wrapper "$work" "$out.tmp/etcd" "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
  "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3
rm -rf "$out"; mv "$out.tmp" "$out"
"$out/etcd" --version | sed -n 1p
