#!/bin/bash
# The real-cluster suite for a daemon per GPU (mps.daemons: perGpu): REAL kind, the node image
# built here and Docker Engine 26, on one node (the control plane) of a fake host with two GPUs
# whose driver is the MPS emulator. `up` starts one daemon per GPU in the node, each serving its
# GPU by UUID in its own pipe directory with its own settings; real Pods that `kindmps-api pod
# --gpu N` prints reach GPU N's daemon and no other, by hostPath and through the node's device
# plugin and CDI spec (`--access cdi`), and a `pod --access cdi` Pod reaches the daemon of a GPU
# the plugin picks; status names each Pod under its GPU's daemon, up restarts one that quit, and
# down quits both.
#   tests/k8s/real_pergpu_test.sh BUILD_DIR
# Skips (exit 77) as tests/k8s/lib.sh says.
set -uo pipefail
name=kmps-pergpu-$$
# shellcheck source=tests/k8s/lib.sh
. "$(dirname "$0")/lib.sh" "$@"
node=$name-control-plane

host=$("$src/tools/make-fake-host.sh" "$work/host" "$emu" --gpus 2)
uuid0=$(awk '$1 == 0 {print $2}' "$host/etc/kindmps-fake-gpus")
uuid1=$(awk '$1 == 1 {print $2}' "$host/etc/kindmps-fake-gpus")
cat > "$work/kindmps.yaml" <<YAML
apiVersion: kindmps.dev/v1alpha1
kind: Config
name: $name
image: $image
mps:
  daemons: perGpu
  perGpu:
    - gpu: "1"
      defaultActiveThreadPercentage: 50
kindConfig: kind.yaml
YAML
# The emulator's GPU table (docs/emulators.md), which a real driver does not need.
cat > "$work/kind.yaml" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraMounts:
      - {hostPath: $host/etc/kindmps-fake-gpus, containerPath: /etc/kindmps-fake-gpus, readOnly: true}
YAML
up=("$cli" up --config "$work/kindmps.yaml" --kind "$kind" --driver-root "$host" --dev-root "$host" --proc-root "$host")

expect 0 "up creates the cluster with real kind and starts a daemon per GPU" -- "${up[@]}" --json
eq "up --json: healthy" "$(json 'd["healthy"]' <<<"$out")" True
eq "one daemon per GPU, each in its own pipe directory" \
  "$(json '[(x["gpu"], x["pipeDirectory"]) for x in d["nodes"][0]["daemons"]]' <<<"$out")" \
  "[(0, '/tmp/nvidia-mps/gpu0'), (1, '/tmp/nvidia-mps/gpu1')]"
eq "each with its server" "$(json '[len(x["servers"]) for x in d["nodes"][0]["daemons"]]' <<<"$out")" "[1, 1]"
has "the node has both GPUs' device nodes" "nvidia1" "$(docker exec "$node" ls /dev)"
daemon_env() { # the pipe directory and GPU of each control daemon in the node, one a line
  docker exec "$node" sh -c 'for p in /proc/[0-9]*; do [ "$(tr "\0" " " <$p/cmdline 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] && tr "\0" "\n" <$p/environ | grep -e ^CUDA_MPS_PIPE -e ^CUDA_VIS | sort | tr "\n" " " && echo; done' | sort
}
eq "two control daemons in the kind node, each serving its GPU by UUID" "$(daemon_env)" \
  "CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps/gpu0 CUDA_VISIBLE_DEVICES=$uuid0 
CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps/gpu1 CUDA_VISIBLE_DEVICES=$uuid1 "
expect 0 "every node becomes Ready" -- kubectl wait --for=condition=Ready node --all --timeout=180s
expect 0 "mps --gpu 1 reaches GPU 1's daemon" -- "$cli" mps --name "$name" --gpu 1 get_default_active_thread_percentage
eq "with its own setting" "$out" 50.0
expect 0 "mps --gpu 0 reaches GPU 0's" -- "$cli" mps --name "$name" --gpu 0 get_default_active_thread_percentage
eq "with the default" "$out" 100.0

load_client_image
log_count() { docker exec "$node" grep -c 'NEW CLIENT' "/var/log/nvidia-mps/gpu$1/control.log"; }
before0=$(log_count 0); before1=$(log_count 1)
for g in 0 1; do
  "$cli" pod "mps-gpu$g" --name "$name" --gpu "$g" --image "$client_image" -- mps-emu-client -sleep 60 >"$work/gpu$g.yaml"
  expect 0 "a client Pod for GPU $g (pod --gpu $g, hostPath) is accepted" -- kubectl apply -f - <"$work/gpu$g.yaml"
done
expect 0 "both Pods run" -- kubectl wait --for=condition=Ready pod/mps-gpu0 pod/mps-gpu1 --timeout=120s
for g in 0 1; do
  for _ in $(seq 50); do kubectl logs "mps-gpu$g" 2>/dev/null | grep -q 'device 0' && break; sleep 0.2; done
done
has "GPU 0's Pod attached to a server on GPU 0 alone" "device 0: $uuid0" "$(kubectl logs mps-gpu0 2>&1)"
has "GPU 1's Pod attached to a server on GPU 1 alone" "device 0: $uuid1" "$(kubectl logs mps-gpu1 2>&1)"
eq "GPU 0's Pod sees one device" "$(kubectl logs mps-gpu0 2>&1 | grep -c 'device [0-9]')" 1
eq "GPU 0's daemon logged one new client" "$(log_count 0)" "$((before0 + 1))"
eq "GPU 1's daemon logged one new client" "$(log_count 1)" "$((before1 + 1))"
eq "the Pod's pipe directory is its GPU's" \
  "$(kubectl exec mps-gpu1 -- sh -c 'echo $CUDA_MPS_PIPE_DIRECTORY' 2>&1)" /tmp/nvidia-mps/gpu1
expect 0 "status --json while they run" -- "$cli" status --name "$name" --json
eq "healthy" "$(json 'd["healthy"]' <<<"$out")" True
eq "status names each Pod under its GPU's daemon" \
  "$(json '[(x["gpu"], sorted(p for c in x["clients"] for p in c["pods"] if p)) for x in d["nodes"][0]["daemons"]]' <<<"$out")" \
  "[(0, ['default/mps-gpu0']), (1, ['default/mps-gpu1'])]"
expect 0 "status (table)" -- "$cli" status --name "$name"
has "a row per GPU's daemon" "GPU 1 .*/tmp/nvidia-mps/gpu1/control" "$out"
expect 2 "pod without --gpu is refused with one line" -- "$cli" pod mps-any --name "$name" --image "$client_image"
has "saying which GPUs there are" "runs an MPS daemon per GPU" "$err"

# --access cdi: the device plugin offers kindmps.dev/mps, 48 devices per GPU, each answered with
# its GPU's CDI device, and kindmps.dev/mps-gpu<N>, GPU N's alone.
allocatable() { kubectl get node "$node" -o jsonpath="{.status.allocatable.kindmps\.dev/$1}" 2>/dev/null; }
for _ in $(seq 90); do [ "$(allocatable mps)" = 96 ] && [ "$(allocatable mps-gpu1)" = 48 ] && break; sleep 1; done
if [ "$(allocatable mps)" = 96 ]; then
  ok "the node offers 48 kindmps.dev/mps devices per GPU (its device plugin read the per-GPU CDI spec)"
else
  bad "the node offers $(allocatable mps) kindmps.dev/mps devices, not 96; the plugin's log:" \
    "$(docker exec "$node" journalctl -u kindmps-device-plugin --no-pager -o cat 2>&1 | grep -v '^Started\|^Stopp' | tail -20)"
fi
eq "and 48 kindmps.dev/mps-gpu0" "$(allocatable mps-gpu0)" 48
eq "and 48 kindmps.dev/mps-gpu1" "$(allocatable mps-gpu1)" 48
has "the CDI spec has a device per GPU" "\"$node-gpu1\"" "$(docker exec "$node" cat /var/run/cdi/kindmps.json)"
before0=$(log_count 0); before1=$(log_count 1)
"$cli" pod mps-cdi1 --name "$name" --gpu 1 --access cdi --image "$client_image" -- mps-emu-client >"$work/cdi1.yaml"
has "pod --gpu 1 --access cdi asks for GPU 1's devices" "kindmps.dev/mps-gpu1" "$(cat "$work/cdi1.yaml")"
expect 0 "it is applied" -- kubectl apply -f - <"$work/cdi1.yaml"
expect 0 "it succeeds" -- kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/mps-cdi1 --timeout=120s
has "on GPU 1" "device 0: $uuid1" "$(kubectl logs mps-cdi1 2>&1)"
eq "GPU 1's daemon served it" "$(log_count 1)" "$((before1 + 1))"
eq "GPU 0's did not" "$(log_count 0)" "$before0"
"$cli" pod mps-cdi-any --name "$name" --access cdi --image "$client_image" -- \
  sh -c 'echo "pipe=$CUDA_MPS_PIPE_DIRECTORY"; mps-emu-client' >"$work/cdi-any.yaml"
expect 0 "pod --access cdi without --gpu (the device plugin picks the GPU) is applied" -- kubectl apply -f - <"$work/cdi-any.yaml"
expect 0 "it succeeds" -- kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/mps-cdi-any --timeout=120s
any=$(kubectl logs mps-cdi-any 2>&1)
if [[ "$any" =~ pipe=/tmp/nvidia-mps/gpu([01]) ]]; then
  g=${BASH_REMATCH[1]}; ok "its CDI device gave it GPU $g's pipe directory"
  uuid_var=uuid$g
  has "and it ran on GPU $g" "device 0: ${!uuid_var}" "$any"
  # GPU 1's count had mps-cdi1's client already.
  want0=$before0 want1=$((before1 + 1)); [ "$g" = 0 ] && want0=$((want0 + 1)) || want1=$((want1 + 1))
  eq "GPU $g's daemon served it, and only that one" "$(log_count 0) $(log_count 1)" "$want0 $want1"
else bad "its CDI device gave it no GPU's pipe directory" "$any"; fi
kubectl delete pod mps-gpu0 mps-gpu1 mps-cdi1 mps-cdi-any --grace-period=1 >/dev/null 2>&1

# One GPU's daemon gone: status names the GPU, up restarts that one only.
expect 0 "GPU 1's daemon quits" -- "$cli" mps --name "$name" --gpu 1 quit
expect 1 "status is unhealthy" -- "$cli" status --name "$name"
has "naming the GPU" "node $node GPU 1: no MPS control daemon runs for it" "$out$err"
expect 0 "up starts it again" -- "${up[@]}"
has "and says which" "GPU 1 control daemon pid [0-9]* (started)" "$out$err"
expect 0 "healthy again" -- "$cli" status --name "$name"

expect 0 "down --keep-cluster quits the daemons" -- "$cli" down --name "$name" --kind "$kind" --keep-cluster
eq "both of them" "$(daemon_env)" ""
expect 0 "down deletes the cluster" -- "$cli" down --name "$name" --kind "$kind"
eq "no node containers are left" "$(docker ps -aq --filter label=io.x-k8s.kind.cluster="$name" | wc -l)" 0

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
