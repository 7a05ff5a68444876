#!/bin/bash
# The real-cluster suite: `kindmps-api up` with REAL kind (built from Go modules), the node image
# built here (tools/node-image), Docker Engine 26 and the MPS emulator as the host's driver, on
# one control plane and two GPU workers, each with its own MPS daemon; then real Pods that
# `kindmps-api pod` prints, scheduled by the real scheduler and run by kubelet through the node's
# containerd, reach their node's MPS daemon: by a hostPath volume, and (--access cdi) through the
# node's device plugin and the CDI spec `up` writes. A Pod that tries to quit the daemon or change
# its settings is refused, and status names the Pod of each client.
#   tests/k8s/real_cluster_test.sh BUILD_DIR
# Exit 77 (ctest: skipped) when the node image is not built and KMPS_K8S_BUILD is not 1, or
# without root. KMPS_K8S_REQUIRE=1 turns every skip into a failure.
set -uo pipefail
name=kmps-k8s-$$
# shellcheck source=tests/k8s/lib.sh
. "$(dirname "$0")/lib.sh" "$@"
cp=$name-control-plane gpu=$name-worker gpu2=$name-worker2

host=$("$src/tools/make-fake-host.sh" "$work/host" "$emu")
cat > "$work/kindmps.yaml" <<YAML
apiVersion: kindmps.dev/v1alpha1
kind: Config
name: $name
image: $image
workers: 2
gpuNodes: [worker]            # both workers: each runs its own daemon
kindConfig: kind.yaml         # the user's own kind config, merged (docs/config.md)
YAML
cat > "$work/kind.yaml" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
    labels: {kindmps.test/slot: "a"}
  - role: worker
    labels: {kindmps.test/slot: "on"}
YAML
up=("$cli" up --config "$work/kindmps.yaml" --kind "$kind" --driver-root "$host" --dev-root "$host")

# kind's docker run failing: the line that says why, not kind's "docker run --help" trailer.
docker run -d --name "$cp" --label keep=me "$image" sleep 1 >/dev/null 2>&1 || true
expect 1 "up reports a failed docker run of kind's" -- "${up[@]}"
last=$(tail -1 <<<"$err")
if [[ "$last" =~ failed\ \(exit\ 1\):\ docker:\ Error\ response\ from\ daemon:.*already\ in\ use ]]; then
  ok "the one-line error is docker's own reason"
else bad "the one-line error is not docker's reason" "$last"; fi
docker rm -f "$cp" >/dev/null 2>&1
eq "a failed create leaves no node behind" "$(docker ps -aq --filter label=io.x-k8s.kind.cluster="$name" | wc -l)" 0

expect 0 "up creates the cluster with real kind and starts MPS" -- "${up[@]}" --json
eq "up --json: healthy" "$(json 'd["healthy"]' <<<"$out")" True
eq "up --json: kind ran" "$(json 'd["created"]' <<<"$out")" True
eq "only the workers are GPU nodes" "$(json 'sorted(n["name"] for n in d["nodes"] if n["gpu"])' <<<"$out")" "['$gpu', '$gpu2']"

expect 0 "every node becomes Ready" -- kubectl wait --for=condition=Ready node --all --timeout=180s
nodes=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\n"}{end}')
has "the control plane is a node" "$cp=v1.34" "$nodes"
has "the GPU worker is a node" "$gpu=v1.34" "$nodes"
has "the second GPU worker is a node" "$gpu2=v1.34" "$nodes"
eq "the user's kind config labels its first worker (kindConfig)" \
  "$(kubectl get nodes -l kindmps.test/slot=a -o jsonpath='{.items[*].metadata.name}')" "$gpu"
eq "and its second, with a string kind's YAML 1.1 would take for a bool" \
  "$(kubectl get nodes -l kindmps.test/slot=on -o jsonpath='{.items[*].metadata.name}')" "$gpu2"
expect 0 "status is healthy" -- "$cli" status --name "$name"
expect 0 "the cluster DNS (CoreDNS built here) becomes Ready" -- \
  kubectl -n kube-system wait --for=condition=Ready pod -l k8s-app=kube-dns --timeout=180s
has "kind wrote the kubeconfig context" "kind-$name" "$(cat "$KUBECONFIG" 2>/dev/null)"

# Pods that `kindmps-api pod` prints (hostPath access) reach their node's MPS daemon, as uid 1000.
load_client_image
log_count() { docker exec "$1" grep -c "$2" /var/log/nvidia-mps/control.log; }
before=$(log_count "$gpu" 'NEW CLIENT'); before2=$(log_count "$gpu2" 'NEW CLIENT')
"$cli" pod mps-long --name "$name" --node "$gpu" --image "$client_image" -- mps-emu-client -sleep 60 >"$work/long.yaml"
expect 0 "a client Pod (kindmps-api pod, hostPath) is accepted" -- kubectl apply -f - <"$work/long.yaml"
expect 0 "the Pod runs" -- kubectl wait --for=condition=Ready pod/mps-long --timeout=120s
eq "the scheduler put it on its GPU node" "$(kubectl get pod mps-long -o jsonpath='{.spec.nodeName}')" "$gpu"
has "the node's containerd runs it (crictl in the node)" "mps-long" "$(docker exec "$gpu" crictl pods 2>&1)"
for _ in $(seq 50); do kubectl logs mps-long 2>/dev/null | grep -q attached && break; sleep 0.2; done
has "the Pod's client attached to the node's MPS server" "attached to server" "$(kubectl logs mps-long 2>&1)"
eq "the node's daemon logged one new client, of uid 1000" "$(log_count "$gpu" 'NEW CLIENT [0-9]* from user 1000')" "$((before + 1))"
server=$("$cli" mps --name "$name" --node "$gpu" get_server_list 2>/dev/null | head -1)
expect 0 "the daemon lists its clients" -- "$cli" mps --name "$name" --node "$gpu" get_client_list "$server"
if [[ "$out" =~ ^[1-9][0-9]* ]]; then ok "the daemon sees the Pod's client by its pid in the node"; else bad "get_client_list: '$out'"; fi
"$cli" pod mps-other --name "$name" --node "$gpu2" --image "$client_image" -- mps-emu-client >"$work/other.yaml"
expect 0 "a client Pod for the second GPU node is accepted" -- kubectl apply -f - <"$work/other.yaml"
expect 0 "it succeeds" -- kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/mps-other --timeout=120s
eq "the second node's own daemon served it" "$(log_count "$gpu2" 'NEW CLIENT')" "$((before2 + 1))"
eq "the first node's daemon did not" "$(log_count "$gpu" 'NEW CLIENT')" "$((before + 1))"

# A Pod cannot take MPS away from the others: quit and settings are refused, and status says so.
"$cli" pod mps-evil --name "$name" --node "$gpu" --image "$client_image" -- sh -c \
  'echo quit | nvidia-cuda-mps-control; echo set_default_active_thread_percentage 10 | nvidia-cuda-mps-control; ls -l /tmp/nvidia-mps/control_privileged' >"$work/evil.yaml"
expect 0 "a Pod that tries to quit the daemon is accepted" -- kubectl apply -f - <"$work/evil.yaml"
expect 0 "it completes" -- kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/mps-evil --timeout=120s
evil=$(kubectl logs mps-evil 2>&1)
has "its quit is refused" "Not enough privilege to execute quit command" "$evil"
has "its setting is refused" "Insufficient privileges for UID 1000" "$evil"
has "it sees /dev/null where the privileged socket is" "^c" "$evil"
expect 0 "status is still healthy" -- "$cli" status --name "$name" --json
eq "the daemon still runs" "$(json '[n["mps"]["control"]["running"] for n in d["nodes"] if n["name"] == "'"$gpu"'"]' <<<"$out")" "[True]"
eq "its default thread percentage is unchanged" \
  "$(json '[n["mps"]["control"]["defaultActiveThreadPercentage"] for n in d["nodes"] if n["name"] == "'"$gpu"'"]' <<<"$out")" "['100.0']"
eq "status counts the refused commands" \
  "$(json '[n["mps"]["control"]["refusedCommands"] for n in d["nodes"] if n["name"] == "'"$gpu"'"]' <<<"$out")" "[2]"
has "status names the client's Pod" "default/mps-long" \
  "$(json '[p for n in d["nodes"] for c in n["mps"]["clients"] for p in c["pods"]]' <<<"$out")"
expect 0 "status (table)" -- "$cli" status --name "$name"
has "the table says what was refused" "refused 2 control command" "$out"
has "the table names the Pod of the client" "(default/mps-long)" "$out"
expect 2 "a Pod of another uid than the server's is refused with one line" -- \
  "$cli" pod mps-root --name "$name" --image "$client_image" --uid 0
has "the line says how to change it" "mps.serverUid: 0" "$err"
kubectl delete pod mps-long mps-other mps-evil --grace-period=1 >/dev/null 2>&1

# Pods that `kindmps-api pod --access cdi` prints: MPS through the node's device plugin and the
# CDI spec up wrote, with no hostPath volume and no privileges.
for _ in $(seq 90); do
  devs=$(kubectl get node "$gpu" -o jsonpath='{.status.allocatable.kindmps\.dev/mps}' 2>/dev/null)
  [ "$devs" = 48 ] && break; sleep 1
done
eq "the GPU node offers 48 kindmps.dev/mps devices (its device plugin sees the CDI spec)" "$devs" 48
cp_devs=$(kubectl get node "$cp" -o jsonpath='{.status.allocatable.kindmps\.dev/mps}')
eq "the control plane (no GPU, no spec) offers none" "${cp_devs:-0}" 0
eq "up labelled the GPU node for Pods to select" \
  "$(kubectl get node "$gpu" -o jsonpath='{.metadata.labels.kindmps\.dev/mps}')" ready
expect 0 "status --json" -- "$cli" status --name "$name" --json
eq "status: both GPU nodes' Pods reach MPS through CDI" \
  "$(json '[n["mpsAccess"] for n in d["nodes"] if n["gpu"]]' <<<"$out")" "['cdi', 'cdi']"
before=$(log_count "$gpu" 'NEW CLIENT')
for i in 1 2 3; do
  "$cli" pod "mps-cdi-$i" --name "$name" --node "$gpu" --image "$client_image" --access cdi --threads 25 -- \
    mps-emu-client -sleep 60 >"$work/pod-$i.yaml"
  expect 0 "kindmps-api pod mps-cdi-$i --access cdi is applied" -- kubectl apply -f - <"$work/pod-$i.yaml"
done
expect 0 "the three Pods run" -- kubectl wait --for=condition=Ready pod/mps-cdi-1 pod/mps-cdi-2 pod/mps-cdi-3 --timeout=120s
for i in 1 2 3; do
  for _ in $(seq 50); do kubectl logs "mps-cdi-$i" 2>/dev/null | grep -q attached && break; sleep 0.2; done
  has "Pod mps-cdi-$i attached to the node's MPS server" "attached to server" "$(kubectl logs "mps-cdi-$i" 2>&1)"
done
eq "the node's daemon logged three new clients" "$(log_count "$gpu" 'NEW CLIENT')" "$((before + 3))"
expect 0 "status --json while they run" -- "$cli" status --name "$name" --json
clients=$(json 'sum(len(c["clients"]) for n in d["nodes"] if n["gpu"] for c in n["mps"]["clients"])' <<<"$out")
if [ "${clients:-0}" -ge 3 ]; then ok "status counts the Pods' clients ($clients) from the daemon"; else bad "status counts $clients clients"; fi
eq "status names each client's Pod" \
  "$(json 'sorted(p for n in d["nodes"] for c in n["mps"]["clients"] for p in c["pods"] if p)' <<<"$out")" \
  "['default/mps-cdi-1', 'default/mps-cdi-2', 'default/mps-cdi-3']"
eq "the Pod has no hostPath volume" "$(kubectl get pod mps-cdi-1 -o jsonpath='{.spec.volumes[*].hostPath.path}')" ""
eq "the Pod is not privileged" "$(kubectl get pod mps-cdi-1 -o jsonpath='{.spec.containers[0].securityContext.privileged}')" ""
has "the CDI edits mask the privileged socket" "^c" "$(kubectl exec mps-cdi-1 -- ls -l /tmp/nvidia-mps/control_privileged 2>&1)"
eq "it runs as the server's uid" "$(kubectl exec mps-cdi-1 -- sh -c 'id -u' 2>&1)" 1000
eq "its limit reached its environment" \
  "$(kubectl exec mps-cdi-1 -- sh -c 'echo $CUDA_MPS_ACTIVE_THREAD_PERCENTAGE')" 25
has "the CDI device gave it the pipe directory" "control" "$(kubectl exec mps-cdi-1 -- ls /tmp/nvidia-mps 2>&1)"
kubectl apply -f - >/dev/null <<POD
apiVersion: v1
kind: Pod
metadata: {name: no-mps}
spec:
  restartPolicy: Never
  nodeSelector: {kubernetes.io/hostname: $gpu}
  containers:
    - {name: c, image: $client_image, imagePullPolicy: Never, command: [sh, -c, 'ls /tmp/nvidia-mps; echo "pipe=\$CUDA_MPS_PIPE_DIRECTORY"']}
POD
expect 0 "a Pod that asks for no MPS device runs" -- kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/no-mps --timeout=120s
has "it gets no MPS (no pipe directory, no variable)" "pipe=$" "$(kubectl logs no-mps 2>&1)"
# Every manifest kind `pod` prints passes the real API server's admission (nothing is created).
cat >"$work/kubectl-in-node" <<KUBECTL
#!/bin/bash
# kubectl [--kubeconfig K] ARGS... [-f FILE]: the node's kubectl, FILE on its stdin.
args=(); file=
while [ \$# -gt 0 ]; do
  case \$1 in --kubeconfig) shift ;; -f) file=\$2; shift; args+=(-f -) ;; *) args+=("\$1") ;; esac; shift
done
if [ -n "\$file" ]; then docker exec -i "$cp" kubectl "\${args[@]}" <"\$file"; else docker exec -i "$cp" kubectl "\${args[@]}"; fi
KUBECTL
chmod +x "$work/kubectl-in-node"
expect 0 "kubectl apply --dry-run=server accepts every manifest kindmps-api pod prints" -- \
  "$src/tests/pod/dry_run_server.sh" "$work/kubectl-in-node" /dev/null "$cli" "$name"
kubectl delete pod mps-cdi-1 mps-cdi-2 mps-cdi-3 no-mps --grace-period=1 >/dev/null 2>&1

# kind nodes restart with the engine: back with Docker's 64 MiB /dev/shm and no MPS daemon.
docker restart -t 10 "$gpu" >/dev/null
expect 1 "status after the GPU node restarted is unhealthy" -- "$cli" status --name "$name"
expect 0 "up repairs it" -- "${up[@]}"
expect 0 "status is healthy again" -- "$cli" status --name "$name"
expect 0 "the restarted node is Ready again" -- kubectl wait --for=condition=Ready node "$gpu" --timeout=180s

expect 0 "down deletes the cluster" -- "$cli" down --name "$name" --kind "$kind"
eq "no node containers are left" "$(docker ps -aq --filter label=io.x-k8s.kind.cluster="$name" | wc -l)" 0
if grep -q "kind-$name" "$KUBECONFIG" 2>/dev/null; then bad "the kubeconfig entry is still there"; else ok "kind's kubeconfig entry is gone"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
