#!/bin/bash
# Builds the Kubernetes binaries (kubelet, kubeadm, kubectl, kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy) from Go modules, at K8S_VERSION.
#   tools/node-image/build-k8s.sh OUTDIR
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces every k8s.io/* staging module
# with a directory. A wrapper module requires it and points those replaces at the published
# staging modules of the matching v0.x version instead. Output is static (CGO_ENABLED=0) and
# stamped with the version the way Kubernetes' own build does (kubeadm reads it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
out=${1:?usage: build-k8s.sh OUTDIR}
. "$here/lib.sh"
need_go

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
kmod=$(go_mod_of "k8s.io/kubernetes@$K8S_VERSION")
{
  echo "module kindmps.dev/node-image/kube"
  grep -E '^(go|godebug) ' "$kmod"
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo "replace ("
  sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$K8S_STAGING_VERSION"'#p' "$kmod"
  echo ")"
} > "$work/go.mod"
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
cmds=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
pkgs=(); for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
mkdir -p "$out.tmp"
build_in_wrapper "$work" "$out.tmp/" "$stamp" "k8s.io/kubernetes@$K8S_VERSION" "${pkgs[@]}"
rm -rf "$out"; mv "$out.tmp" "$out"
"$out/kubeadm" version -o short
