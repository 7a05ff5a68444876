#!/usr/bin/env bash
# Every manifest `kindmps-api pod` prints, checked by a real API server with
# `kubectl apply --dry-run=server` (admission and validation, nothing created).
#
#   tests/pod/dry_run_server.sh KUBECTL KUBECONFIG KINDMPS_API [CLUSTER]
#
# KUBECTL is a command (split on blanks, e.g. "kubectl" or "/opt/k8s/kubectl --request-timeout=20s");
# CLUSTER is the kindmps cluster whose saved state `pod` reads (default: $KIND_CLUSTER_NAME, else
# kind). Prints one line per manifest, "ok N - what" or "FAIL N - what: why"; exits 1 if
# any failed, 2 on bad arguments. Meant to be called from tests/k8s against a cluster `up` made.
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 KUBECTL KUBECONFIG KINDMPS_API [CLUSTER]" >&2
  exit 2
fi
read -r -a kubectl <<<"$1"
kubeconfig=$2
cli=$3
cluster=${4:-${KIND_CLUSTER_NAME:-kind}}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
failed=0
# check WHAT CLI-ARGS...: the CLI's output, applied with --dry-run=server.
check() {
  local what=$1
  shift
  n=$((n + 1))
  if ! "$cli" pod --name "$cluster" "$@" >"$work/m.yaml" 2>"$work/err"; then
    echo "FAIL $n - $what: kindmps-api pod failed: $(head -n1 "$work/err")"
    failed=$((failed + 1))
    return
  fi
  if "${kubectl[@]}" --kubeconfig "$kubeconfig" apply --dry-run=server -f "$work/m.yaml" >"$work/out" 2>&1; then
    echo "ok $n - $what"
  else
    echo "FAIL $n - $what: $(tr '\n' ' ' <"$work/out")"
    failed=$((failed + 1))
  fi
}

image=registry.invalid/kindmps/dry-run:1
for access in hostpath cdi; do
  check "Pod ($access)" dry-run-pod --image "$image" --access "$access" --threads 50 --pinned-mem 0=1G,1=512M
  check "Deployment ($access)" dry-run-deploy --image "$image" --access "$access" --kind Deployment --replicas 2
  check "Job ($access)" dry-run-job --image "$image" --access "$access" --kind Job --replicas 2 -- sh -c "echo ok"
done
# A Pod pinned to each GPU node by name (kubernetes.io/hostname).
i=0
for node in $("${kubectl[@]}" --kubeconfig "$kubeconfig" get nodes -o name 2>/dev/null | sed 's|^node/||'); do
  if "$cli" pod --name "$cluster" probe --image "$image" --node "$node" >/dev/null 2>&1; then
    i=$((i + 1))
    check "Pod on node $node" "dry-run-node-$i" --image "$image" --node "$node"
  fi
done
# --patch of each golden input (every workload kind it knows, and documents it passes through).
for input in "$here"/patch/*.in.yaml; do
  check "--patch $(basename "$input")" --patch "$input"
done
echo "# $n checks, $failed failed"
[ "$failed" -eq 0 ]
