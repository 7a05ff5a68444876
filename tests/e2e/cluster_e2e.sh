#!/bin/bash
# End-to-end tests of up / status / mps / down against the real Docker engine, with the project's
# stand-in kind and the MPS emulator reaching the nodes through the very mounts that `config`
# generates from a fake host tree.
#   tests/e2e/cluster_e2e.sh BUILD_DIR SCENARIO      (single | multi | inputs | hardening | conventions | gpus | pergpu)
set -uo pipefail
build=$(realpath "${1:?build dir}")
scenario=${2:?scenario}
src=$(cd "$(dirname "$0")/../.." && pwd)
cli=$build/src/cli/kindmps-api
kind=$build/tools/fake-kind/kind
emu=$build/tools/mps-emu

if ! curl -s --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping | grep -q OK; then
  if [ "${KMPS_REQUIRE_DOCKER:-0}" = 1 ]; then echo "FAIL: Docker engine unreachable at /var/run/docker.sock"; exit 1; fi
  echo "SKIP: Docker engine unreachable at /var/run/docker.sock (run tools/setup-docker.sh)"; exit 0
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mknod for the fake host's devices)"; exit 0; }

work=$(mktemp -d /tmp/kmps-e2e.XXXXXX)
name=kmps-e2e-$scenario-$$
export KMPS_STATE_DIR=$work/state
export KMPS_FAKE_KIND_IMAGE=${KMPS_TEST_IMAGE:-kmps-test:busybox}
host=$("$src/tools/make-fake-host.sh" "$work/host" "$emu")
common=(--name "$name")
up_flags=(--name "$name" --driver-root "$host" --dev-root "$host" --kind "$kind")
cleanup() {
  "$kind" delete cluster --name "$name" >/dev/null 2>&1
  umount "$work/private" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

passed=0; failed=0
ok() { passed=$((passed+1)); echo "ok   - $1"; }
bad() { failed=$((failed+1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/       /'; }
# expect CODE DESCRIPTION -- COMMAND...   (stdout in $out, stderr in $err)
expect() {
  local want=$1 what=$2; shift 3
  out=$("$@" 2>"$work/err"); local rc=$?; err=$(cat "$work/err")
  if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, wanted $want" "$out
$err"; fi
}
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
has() { if grep -q -- "$2" <<<"$3"; then ok "$1"; else bad "$1: no '$2' in output" "$3"; fi; }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: '$2' != '$3'"; fi; }
nodes() { docker ps -aq --filter "label=io.x-k8s.kind.cluster=$name" | wc -l; }
# mounts_yaml HOSTPATH [PROPAGATION]: a kindmps.yaml with one extraMount, on stdout
mounts_yaml() {
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\nextraMounts:\n  - hostPath: %s\n    containerPath: /data\n' "$1"
  [ -z "${2:-}" ] || printf '    propagation: %s\n' "$2"
}

case $scenario in
single)
  expect 0 "up creates a one-node cluster and starts MPS" -- "$cli" up "${up_flags[@]}" --json
  node=$name-control-plane
  eq "up --json is healthy" "$(json 'd["healthy"]' <<<"$out")" True
  eq "up ran kind" "$(json 'd["created"]' <<<"$out")" True
  pid1=$(json 'd["nodes"][0]["mps"]["control"]["pid"]' <<<"$out")
  eq "/dev/shm is 8 GiB" "$(json 'd["nodes"][0]["shmBytes"]' <<<"$out")" 8589934592
  eq "one MPS server" "$(json 'len(d["nodes"][0]["mps"]["servers"])' <<<"$out")" 1
  has "up reports its steps" "Start MPS in the GPU nodes" "$err"
  top=$(docker top "$node" -o pid,ppid,args)
  has "the control daemon runs in the node" "nvidia-cuda-mps-control -d" "$top"
  has "a server runs in the node" "nvidia-cuda-mps-server" "$top"
  mounts=$(docker inspect -f '{{range .Mounts}}{{.Destination}}={{.RW}} {{end}}' "$node")
  has "libcuda.so.1 is mounted read-only" "/usr/lib/x86_64-linux-gnu/libcuda.so.1=false" "$mounts"

  expect 0 "up again changes nothing" -- "$cli" up "${up_flags[@]}" --json
  eq "same control daemon" "$(json 'd["nodes"][0]["mps"]["control"]["pid"]' <<<"$out")" "$pid1"
  eq "kind not run again" "$(json 'd["created"]' <<<"$out")" False

  expect 0 "status of a healthy cluster" -- "$cli" status "${common[@]}"
  has "status table names the node" "$node" "$out"
  expect 0 "status --json" -- "$cli" status "${common[@]}" --json
  eq "status sees the pipe socket" "$(json 'd["nodes"][0]["pipeSocket"]' <<<"$out")" True
  server=$(json 'd["nodes"][0]["mps"]["servers"][0]["pid"]' <<<"$out")

  expect 0 "mps get_server_list" -- "$cli" mps "${common[@]}" get_server_list
  # The daemon answers with the server's PID in the node's PID namespace; `top` shows host PIDs.
  if [[ "$out" =~ ^[0-9]+$'\n'?$ ]] && [ -n "$server" ]; then ok "get_server_list names one server"; else bad "get_server_list: '$out'"; fi
  server_in_node=$(head -1 <<<"$out")
  expect 0 "mps set_default_active_thread_percentage 50" -- "$cli" mps "${common[@]}" set_default_active_thread_percentage 50
  eq "the daemon answers 50.0" "$out" "50.0"
  expect 0 "status --json after the setting" -- "$cli" status "${common[@]}" --json
  eq "status reads the setting back from the daemon" \
    "$(json 'd["nodes"][0]["mps"]["control"]["defaultActiveThreadPercentage"]' <<<"$out")" 50.0
  eq "status names the daemon's server" "$(json 'd["nodes"][0]["mps"]["clients"][0]["server"]' <<<"$out")" "$server_in_node"
  eq "without the device plugin, Pods reach MPS by hostPath" "$(json 'd["nodes"][0]["mpsAccess"]' <<<"$out")" hostpath
  spec=$(docker exec "$node" cat /var/run/cdi/kindmps.json)
  eq "up wrote the node's CDI spec, one device named after the node" "$(json 'd["devices"][0]["name"]' <<<"$spec")" "$node"
  eq "its env points at the pipe directory" "$(json 'd["devices"][0]["containerEdits"]["env"][0]' <<<"$spec")" \
    CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps
  has "the kind config labels the GPU node" "kindmps.dev/mps: ready" "$(cat "$KMPS_STATE_DIR/$name/kind-config.yaml")"
  expect 2 "an unknown MPS command is a usage error" -- "$cli" mps "${common[@]}" no_such_command
  has "the daemon's reply is shown" "Unknown command" "$err"
  expect 2 "shell text reaches the daemon as data, not as a command" -- "$cli" mps "${common[@]}" 'get_server_list; echo $((6*7))'
  # The daemon echoes the text back; a shell would have printed 42 on a line of its own. (The
  # cluster's name holds this script's PID, so "42" anywhere in the output proves nothing.)
  if grep -qx 42 <<<"$out"$'\n'"$err"; then bad "the shell ran the user's text"; else ok "no shell expansion"; fi
  has "the daemon saw the text unexpanded" 'echo $((6\*7))' "$err"
  expect 1 "mps on an unknown node" -- "$cli" mps "${common[@]}" --node nope get_server_list

  expect 0 "mps quit" -- "$cli" mps "${common[@]}" quit
  expect 1 "status after quit is unhealthy" -- "$cli" status "${common[@]}" --json
  eq "the stale socket is seen" "$(json 'd["nodes"][0]["pipeSocket"]' <<<"$out")" True
  eq "but no control daemon" "$(json 'd["nodes"][0]["mps"]["control"]["running"]' <<<"$out")" False
  has "one line on stderr says why" "cluster $name is unhealthy: node $node: no MPS control daemon runs" "$err"
  expect 0 "up repairs the dead daemon" -- "$cli" up "${up_flags[@]}" --json
  pid2=$(json 'd["nodes"][0]["mps"]["control"]["pid"]' <<<"$out")
  if [ -n "$pid2" ] && [ "$pid2" != "$pid1" ]; then ok "a new daemon runs ($pid1 -> $pid2)"; else bad "no new daemon: $pid1 -> $pid2"; fi

  # down checks kind (and the kubeconfig lock) before it stops any daemon.
  expect 3 "down without kind" -- "$cli" down "${common[@]}" --kind /nonexistent
  has "names the missing kind" "/nonexistent is not an executable file" "$err"
  expect 0 "the daemon still runs after it" -- "$cli" status "${common[@]}" --json
  eq "same control daemon after a down without kind" "$(json 'd["nodes"][0]["mps"]["control"]["pid"]' <<<"$out")" "$pid2"
  expect 0 "down quits MPS and deletes the cluster" -- "$cli" down "${common[@]}" --kind "$kind"
  eq "no node containers remain" "$(docker ps -aq --filter label=io.x-k8s.kind.cluster=$name | wc -l)" 0
  expect 1 "status of a deleted cluster" -- "$cli" status "${common[@]}"
  has "it says there is none" "no cluster named $name (create it with kindmps-api up -n $name)" "$err"
  ;;
multi)
  expect 0 "up creates a 3-node cluster" -- "$cli" up "${up_flags[@]}" --workers 2 --json
  eq "three nodes" "$(json 'len(d["nodes"])' <<<"$out")" 3
  eq "every node runs a daemon" "$(json 'all(n["mps"]["control"]["running"] for n in d["nodes"])' <<<"$out")" True
  expect 2 "mps without --node on several GPU nodes is a usage error" -- "$cli" mps "${common[@]}" get_server_list
  expect 0 "mps --all" -- "$cli" mps "${common[@]}" --all get_default_active_thread_percentage
  eq "one reply per node" "$(grep -c ': 100.0' <<<"$out")" 3
  docker stop -t 1 "$name-worker2" >/dev/null
  expect 1 "status with a stopped node" -- "$cli" status "${common[@]}" --json
  eq "the stopped node is reported" "$(json '[n["running"] for n in d["nodes"] if n["name"].endswith("worker2")][0]' <<<"$out")" False
  expect 1 "up with a stopped node fails clearly" -- "$cli" up "${up_flags[@]}" --workers 2
  has "naming the node" "$name-worker2 is not running" "$err"
  expect 0 "down --keep-cluster only quits MPS" -- "$cli" down "${common[@]}" --keep-cluster
  eq "containers kept" "$(docker ps -aq --filter label=io.x-k8s.kind.cluster=$name | wc -l)" 3
  expect 0 "down deletes" -- "$cli" down "${common[@]}" --kind "$kind"
  has "after quitting each GPU's daemon" "Stop the MPS daemons ok" "$err"
  ;;
inputs)
  expect 2 "a bad --shm-size" -- "$cli" up "${up_flags[@]}" --shm-size lots
  expect 2 "an unknown flag" -- "$cli" up --no-such-flag
  expect 3 "a host without the driver" -- "$cli" up --name "$name" --driver-root "$work/empty" --dev-root "$work/empty" --kind "$kind"
  has "names what is missing" "libcuda.so.1" "$err"
  expect 3 "no kind binary" -- "$cli" up --name "$name" --driver-root "$host" --dev-root "$host" --kind "$work/no-kind"
  has "names the kind path" "$work/no-kind" "$err"
  expect 3 "no kind on PATH" -- env PATH=/usr/bin:/bin "$cli" up --name "$name" --driver-root "$host" --dev-root "$host"
  has "says kind is missing" "kind not found on PATH" "$err"
  expect 3 "no Docker socket" -- env DOCKER_HOST=unix://$work/no.sock "$cli" status "${common[@]}"
  has "names the socket" "$work/no.sock" "$err"
  expect 1 "kind failing to create the cluster" -- env KMPS_FAKE_KIND_IMAGE=kmps-no-such-image:none "$cli" up "${up_flags[@]}"
  has "names the kind command and its last error line" "kind create cluster --name $name failed (exit 1): ERROR" "$err"
  # Docker creates the node, then cannot start it: kind prints the daemon's refusal, then a help pointer.
  expect 1 "a node Docker cannot start" -- env KMPS_FAKE_KIND_DEVICES=/dev/kmps-no-such-device "$cli" up "${up_flags[@]}"
  last=$(tail -n 1 <<<"$err")
  has "the error names Docker's refusal" "failed (exit 1): docker: Error response from daemon: .*/dev/kmps-no-such-device" "$last"
  if grep -q "docker run --help" <<<"$last"; then bad "the error is docker's help pointer" "$last"; else ok "not docker's help pointer"; fi
  eq "the node that did not start is removed" "$(nodes)" 0
  expect 0 "up after the failed attempt recovers" -- "$cli" up "${up_flags[@]}" --json
  # A kind stopped before kubeadm init leaves node containers without Kubernetes (admin.conf).
  docker exec "$name-control-plane" rm /etc/kubernetes/admin.conf
  expect 0 "up redoes a cluster kind left half-made" -- "$cli" up "${up_flags[@]}" --json
  has "saying so in one line" "cluster \"$name\" was left half-made (kind did not finish): deleting and creating it again" "$err"
  eq "kind ran again" "$(json 'd["created"]' <<<"$out")" True
  eq "the new cluster is healthy" "$(json 'd["healthy"]' <<<"$out")" True
  expect 0 "admin.conf is back" -- docker exec "$name-control-plane" test -s /etc/kubernetes/admin.conf
  expect 0 "down" -- "$cli" down "${common[@]}" --kind "$kind"

  # kind v0.33 when one of its parallel `docker run`s fails: it deletes the nodes there are and
  # exits while another `docker run` of its still runs, which makes a node seconds later.
  expect 1 "kind failing while a docker run of its still runs" -- env KMPS_FAKE_KIND_ORPHAN_NODE=1 "$cli" up "${up_flags[@]}" --workers 1
  has "the error names Docker's refusal" "kind create cluster --name $name failed (exit 1): docker: Error response from daemon: .*kmps-fake-kind-no-such-device" "$(tail -n 1 <<<"$err")"
  has "a line says the late node is deleted" "kind create cluster --name $name failed and left 1 node container ($name-worker): deleting it with kind delete cluster --name $name" "$err"
  eq "no node container is left" "$(nodes)" 0
  sleep 3  # past the time the late docker run made its node, had up not waited for it
  eq "none appears later" "$(nodes)" 0
  expect 0 "the next up works without --recreate" -- "$cli" up "${up_flags[@]}" --workers 1 --json
  eq "and ends healthy" "$(json 'd["healthy"]' <<<"$out")" True
  expect 0 "down" -- "$cli" down "${common[@]}" --kind "$kind"

  # interrupt_up SIG [BEFORE]: `up` with a stand-in kind that sleeps once the nodes exist; when
  # they do, runs BEFORE (if given) and sends SIG to up. Sets rc, err and ms (after the signal).
  # `set -m` starts up as a job of its own whose SIGINT is not ignored, as from a terminal.
  interrupt_up() {
    set -m
    KMPS_FAKE_KIND_SLEEP=30 "$cli" up "${up_flags[@]}" 2>"$work/err" >/dev/null &
    local pid=$!
    set +m
    for _ in $(seq 100); do [ "$(nodes)" -gt 0 ] && break; sleep 0.1; done
    [ -n "${2:-}" ] && eval "$2"
    local t0; t0=$(date +%s%N)
    kill "-$1" "$pid"
    wait "$pid"; rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    err=$(cat "$work/err")
  }

  # Ctrl-C: kind runs in a process group of its own, so up forwards the signal to it.
  interrupt_up INT
  eq "SIGINT while kind creates the cluster: up exits 130 ($ms ms after the signal)" "$rc" 130
  has "one line says what was left" "^kindmps-api: interrupted (SIGINT): kind create cluster --name $name was stopped; the node containers it left were deleted; run kindmps-api up again$" "$(tail -n 1 <<<"$err")"
  eq "no node container is left" "$(nodes)" 0
  eq "the stand-in kind is gone" "$(pgrep -fc "fake-kind/kind create cluster --name $name ")" 0
  expect 0 "the next up" -- "$cli" up "${up_flags[@]}" --json
  eq "ends healthy" "$(json 'd["healthy"]' <<<"$out")" True
  expect 0 "down" -- "$cli" down "${common[@]}" --kind "$kind"

  # SIGHUP (the terminal closed) is forwarded as SIGINT is, since kind has a group of its own.
  interrupt_up HUP
  eq "SIGHUP while kind creates the cluster: up exits 129" "$rc" 129
  has "one line names SIGHUP" "^kindmps-api: interrupted (SIGHUP): kind create cluster --name $name was stopped; the node containers it left were deleted; run kindmps-api up again$" "$(tail -n 1 <<<"$err")"
  eq "no node container is left after SIGHUP" "$(nodes)" 0
  eq "the stand-in kind is gone after SIGHUP" "$(pgrep -fc "fake-kind/kind create cluster --name $name ")" 0

  # A kubeconfig lock that appears while kind creates: what a stopped create left is kept, and said so.
  mkdir -p "$work/kc"
  KUBECONFIG="$work/kc/kubeconfig" interrupt_up INT 'touch "$work/kc/kubeconfig.lock"'
  eq "SIGINT with a kubeconfig lock: up exits 130" "$rc" 130
  has "one line says the nodes are kept and why" "^kindmps-api: interrupted (SIGINT): kind create cluster --name $name was stopped; it left [0-9]* node containers* (.*), kept: kubeconfig lock file $work/kc/kubeconfig.lock exists" "$(tail -n 1 <<<"$err")"
  if [ "$(nodes)" -gt 0 ]; then ok "the node containers are kept"; else bad "no node container is left"; fi
  rm -f "$work/kc/kubeconfig.lock"
  expect 0 "down removes them" -- "$cli" down "${common[@]}" --kind "$kind"
  eq "then no node container is left" "$(nodes)" 0

  # A lock left by a killed kind or kubectl: kind would exit 1 on it; kindmps-api says which file.
  touch "$work/kubeconfig" "$work/kubeconfig.lock"
  expect 1 "a stale kubeconfig lock" -- env KUBECONFIG="$work/kubeconfig:$work/other" "$cli" up "${up_flags[@]}"
  has "names the lock file" "kubeconfig lock file $work/kubeconfig.lock exists" "$err"
  eq "kind did not run" "$(nodes)" 0
  expect 1 "down with a stale kubeconfig lock" -- env KUBECONFIG="$work/kubeconfig" "$cli" down "${common[@]}" --kind "$kind"
  has "names the lock file" "kubeconfig lock file $work/kubeconfig.lock exists" "$err"
  eq "the lock file is left alone" "$([ -e "$work/kubeconfig.lock" ] && echo kept)" kept

  # Docker would create a missing hostPath as an empty root-owned directory.
  mounts_yaml "$work/no-such-dir" > "$work/mounts.yaml"
  expect 2 "an extraMounts hostPath that does not exist" -- "$cli" up --config "$work/mounts.yaml" "${up_flags[@]}"
  has "names it" "extraMounts: hostPath $work/no-such-dir does not exist" "$err"
  eq "nothing created it" "$([ -e "$work/no-such-dir" ] || echo absent)" absent
  expect 2 "config checks it too" -- "$cli" config --config "$work/mounts.yaml" --driver-root "$host" --dev-root "$host"

  # HostToContainer is :rslave, which Docker refuses when the source lies on a private mount.
  mkdir -p "$work/private"
  if mount -t tmpfs kmps-e2e "$work/private" && mount --make-private "$work/private"; then
    mkdir "$work/private/d"
    mounts_yaml "$work/private/d" HostToContainer > "$work/propagation.yaml"
    expect 2 "HostToContainer from a private mount" -- "$cli" up --config "$work/propagation.yaml" "${up_flags[@]}"
    has "names the path, the mount point and the fixes" "hostPath $work/private/d has propagation HostToContainer, but the mount holding it, $work/private, is private, so Docker would refuse it: run mount --make-rshared $work/private, or set propagation: None" "$err"
    eq "kind did not run" "$(nodes)" 0
    mount --make-rshared "$work/private"
    expect 0 "accepted once that mount is shared" -- "$cli" config --config "$work/propagation.yaml" --driver-root "$host" --dev-root "$host"
  else
    echo "skip - propagation: cannot mount a private tmpfs here"
  fi
  mkdir -p "$KMPS_STATE_DIR/$name" && echo '{"name": ' > "$KMPS_STATE_DIR/$name/kindmps.json"
  expect 2 "a corrupt state file" -- "$cli" status "${common[@]}"
  has "names the state file" "$KMPS_STATE_DIR/$name/kindmps.json" "$err"
  rm -rf "$KMPS_STATE_DIR/$name"
  printf 'name: x\nwrokers: 2\napiVersion: kindmps.dev/v1alpha1\nkind: Config\n' > "$work/bad.yaml"
  expect 2 "an unknown key in kindmps.yaml" -- "$cli" up --config "$work/bad.yaml"
  has "pinned to file:line:column" "bad.yaml:2:1" "$err"
  printf 'name: x\n' > "$work/untyped.yaml"
  expect 2 "a kindmps.yaml without apiVersion" -- "$cli" up --config "$work/untyped.yaml"
  has "says what to add" "untyped.yaml:1:1: apiVersion is missing; add \"apiVersion: kindmps.dev/v1alpha1\" as the first line" "$err"
  # What Docker leaves of a missing libcuda.so.<version> after a mount: an empty directory.
  lib=$host/usr/local/nvidia/lib64/libcuda.so.580.159.04
  rm "$lib" && mkdir "$lib"
  expect 3 "a driver file that is a directory" -- "$cli" up "${up_flags[@]}"
  has "names it as such" "$lib is a directory, not a file" "$err"
  ;;
hardening)
  # Issue 13: "healthy" only when true, the state matching the cluster, inputs checked first.
  w=$name-worker cp=$name-control-plane
  # Every input is checked before anything changes: no node, no state directory after each.
  expect 2 "--timeout nan" -- "$cli" up "${up_flags[@]}" --timeout nan
  expect 2 "--timeout -1" -- "$cli" up "${up_flags[@]}" --timeout=-1
  expect 2 "a 9.5 EB /dev/shm" -- "$cli" up "${up_flags[@]}" --shm-size 9500p
  expect 2 "an absurd /dev/shm" -- "$cli" up "${up_flags[@]}" --shm-size 8388608t
  has "says the bound" "more than the 4398046511104 bytes (4T)" "$err"
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\nmps:\n  pinnedDeviceMemoryLimits:\n    - {device: "7", limit: 2G}\n' >"$work/gpu7.yaml"
  expect 2 "a pinned limit for a GPU the host has not" -- "$cli" up "${up_flags[@]}" --config "$work/gpu7.yaml"
  has "names the device" "device 7 is no GPU of this host" "$err"
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\nname: a\n---\napiVersion: kindmps.dev/v1alpha1\nkind: Config\nname: b\n' >"$work/two.yaml"
  expect 2 "a kindmps.yaml of two documents" -- "$cli" up "${up_flags[@]}" --config "$work/two.yaml"
  has "at the second one" "two.yaml:4:1: a second YAML document" "$err"
  mkdir -p "$work/cwd/kindmps.yaml"
  expect 2 "./kindmps.yaml that is a directory" -- sh -c "cd '$work/cwd' && exec '$cli' up --name '$name' --kind '$kind'"
  has "says so" "config file kindmps.yaml: is a directory, not a file" "$err"
  for bad in ../x -x .x "$(printf 'a%.0s' $(seq 50))"; do
    expect 2 "down --name=$bad is refused before kind runs" -- "$cli" down --name="$bad" --kind "$kind"
  done
  eq "no node was made" "$(nodes)" 0
  eq "no state directory was left" "$(ls -A "$KMPS_STATE_DIR" 2>/dev/null | wc -l)" 0
  expect 1 "a first up that kind fails" -- env KMPS_FAKE_KIND_IMAGE=kmps-no-such-image:none "$cli" up "${up_flags[@]}"
  eq "leaves no state directory" "$(ls -A "$KMPS_STATE_DIR" 2>/dev/null | wc -l)" 0

  expect 0 "up: two GPU nodes" -- "$cli" up "${up_flags[@]}" --workers 1 --json
  eq "healthy" "$(json 'd["healthy"]' <<<"$out")" True
  # A request for another cluster: refused, exit 2, nothing changed.
  expect 2 "up asking for 2 workers on a 1-worker cluster" -- "$cli" up "${up_flags[@]}" --workers 2
  has "names the difference and --recreate" "workers 1 -> 2; kindmps-api up --recreate" "$err"
  eq "the state still says 1 worker" "$(json 'd["workers"]' <"$KMPS_STATE_DIR/$name/kindmps.json")" 1
  # What can be applied live is applied, and saved.
  expect 0 "up --shm-size 16g on the running cluster" -- "$cli" up "${up_flags[@]}" --workers 1 --shm-size 16g --json
  eq "kind not run" "$(json 'd["created"]' <<<"$out")" False
  eq "/dev/shm is 16 GiB" "$(json 'd["nodes"][1]["shmBytes"]' <<<"$out")" 17179869184
  eq "the state says 16g" "$(json 'd["shmSize"]' <"$KMPS_STATE_DIR/$name/kindmps.json")" 16g
  # A deleted control socket: status and mps agree the daemon is unreachable; up restarts it.
  docker exec "$w" rm /tmp/nvidia-mps/control
  expect 1 "status with the worker's socket deleted" -- "$cli" status "${common[@]}"
  has "names the missing socket" "$w: the MPS control daemon (pid [0-9]*) has no control socket /tmp/nvidia-mps/control" "$out"
  expect 1 "mps on that node fails too" -- "$cli" mps "${common[@]}" --node "$w" get_server_list
  expect 0 "up repairs it" -- "$cli" up "${up_flags[@]}" --workers 1 --shm-size 16g
  has "saying it restarted the daemon" "restarted: its control socket was gone" "$err"
  expect 0 "status is healthy again" -- "$cli" status "${common[@]}"
  expect 0 "and mps answers" -- "$cli" mps "${common[@]}" --node "$w" get_server_list
  # A paused node: named as such, with docker's way out.
  docker pause "$w" >/dev/null
  expect 1 "status with a paused node" -- "$cli" status "${common[@]}"
  has "says paused, docker unpause" "node $w is paused (docker unpause $w)" "$out"
  expect 1 "up with a paused node" -- "$cli" up "${up_flags[@]}" --workers 1 --shm-size 16g
  has "says so too" "node $w is paused (docker unpause $w)" "$err"
  docker unpause "$w" >/dev/null
  # A node removed with docker rm: unhealthy, and up reports it rather than keeping it.
  docker rm -f "$w" >/dev/null
  expect 1 "status with the worker removed" -- "$cli" status "${common[@]}"
  has "names the missing node" "node $w of cluster $name is missing" "$out"
  expect 1 "up with the worker removed" -- "$cli" up "${up_flags[@]}" --workers 1 --shm-size 16g
  has "reports it, with --recreate" "node $w of cluster $name is missing (removed?); kindmps-api up --recreate" "$err"
  # Whatever stands where the state file should be: one line, exit 2, no hang.
  mv "$KMPS_STATE_DIR/$name/kindmps.json" "$work/state.json"
  mkfifo "$KMPS_STATE_DIR/$name/kindmps.json"
  expect 2 "a FIFO where the state file should be" -- timeout 10 "$cli" status "${common[@]}"
  has "names it" "$KMPS_STATE_DIR/$name/kindmps.json: is a FIFO, not a file" "$err"
  rm "$KMPS_STATE_DIR/$name/kindmps.json" && mv "$work/state.json" "$KMPS_STATE_DIR/$name/kindmps.json"
  expect 0 "down --json" -- "$cli" down "${common[@]}" --kind "$kind" --json
  eq "says the cluster was deleted" "$(json 'd["kind"], d["ok"], d["clusterDeleted"]' <<<"$out")" "DownResult True True"
  eq "removes the state directory" "$(test -e "$KMPS_STATE_DIR/$name" && echo kept || echo gone)" gone
  expect 1 "status of a cluster that is not there" -- "$cli" status "${common[@]}"
  has "says there is none, and how to make it" "no cluster named $name (create it with kindmps-api up -n $name)" "$err"
  ;;
conventions)
  # Issue 14: kind's and docker's habits. Flags that exclude each other are a usage error (CLI11).
  expect 2 "mps --all with --node" -- "$cli" mps -n "$name" --all --node "$name-worker" get_server_list
  has "names both" "--node excludes --all" "$err"
  # A long name: the table's columns follow it.
  long=$name-with-a-long-name
  expect 0 "up -n with a long name" -- "$cli" up -n "$long" --driver-root "$host" --dev-root "$host" --kind "$kind" -q
  eq "-q: nothing on stderr" "$err" ""
  expect 0 "status finds it by KIND_CLUSTER_NAME" -- env KIND_CLUSTER_NAME="$long" "$cli" status
  head=$(sed -n 2p <<<"$out") row=$(sed -n 3p <<<"$out")
  eq "the columns line up under a long name" "$(awk '{print index($0, "ROLE")}' <<<"$head")" \
    "$(awk -v n="$long-control-plane" '{print length(n) + 2}' <<<"$row")"
  has "the role is in its column" "^$long-control-plane control-plane " "$row"
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\nname: %s\n' "$long" >"$work/named.yaml"
  expect 0 "status finds it by --config" -- "$cli" status --config "$work/named.yaml" --json
  eq "every document says what it is" "$(json 'd["apiVersion"], d["kind"]' <<<"$out")" "kindmps.dev/v1alpha1 ClusterStatus"
  expect 0 "mps --json" -- "$cli" mps -n "$long" --json get_server_list
  eq "the replies document" "$(json 'd["kind"], d["replies"][0]["ok"]' <<<"$out")" "MpsReplies True"
  expect 2 "an unknown command" -- "$cli" stauts
  has "is named, with the commands" 'unknown command "stauts" (commands: exec, ps' "$err"
  expect 0 "help up" -- "$cli" help up
  has "prints up's help" "Create the kind cluster" "$out"
  expect 0 "version" -- "$cli" version --json
  eq "names the library and the Docker API" "$(json 'd["version"] != "", d["dockerApi"]["clientMax"]' <<<"$out")" "True 1.47"
  for sh in bash zsh fish; do expect 0 "completion $sh" -- "$cli" completion "$sh"; done
  expect 0 "the bash completion is valid bash" -- bash -n -c "$("$cli" completion bash)"
  expect 0 "down -n" -- "$cli" down -n "$long" --kind "$kind" -q
  # kind's own flags, with kind's meaning.
  expect 2 "--wait that kind would refuse" -- "$cli" up "${up_flags[@]}" --wait "5 minutes"
  has "is refused before anything changes" 'wait "5 minutes": expected a duration as kind takes it' "$err"
  eq "no node was made" "$(nodes)" 0
  expect 0 "up --wait --kubeconfig" -- "$cli" up "${up_flags[@]}" --wait 30s --kubeconfig "$work/kc.yaml"
  has "kind wrote the kubeconfig asked for" "kind-$name" "$(cat "$work/kc.yaml" 2>/dev/null)"
  expect 0 "down --kubeconfig" -- "$cli" down "${common[@]}" --kind "$kind" --kubeconfig "$work/kc.yaml"
  ;;
gpus)
  # A host of two GPUs (one more with MIG on), one GPU per worker: each worker keeps its GPU's
  # device node only, and its daemon serves that GPU by UUID.
  host2=$("$src/tools/make-fake-host.sh" "$work/host2" "$emu" --gpus 2)
  mig=$("$src/tools/make-fake-host.sh" "$work/mig" "$emu" --gpus 2 --mig 1)
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\ngpuNodes: [worker]\n' > "$work/kindmps.yaml"
  g2=(--name "$name" --config "$work/kindmps.yaml" --driver-root "$host2" --dev-root "$host2" --proc-root "$host2" --kind "$kind")
  uuid0=$(awk '$1 == 0 {print $2}' "$host2/etc/kindmps-fake-gpus")
  uuid1=$(awk '$1 == 1 {print $2}' "$host2/etc/kindmps-fake-gpus")
  expect 2 "one GPU per node for 3 workers on 2 GPUs is refused" -- "$cli" up "${g2[@]}" --workers 3 --gpus one-per-node
  has "naming the count and the GPUs" "onePerNode gives each of the 3 GPU nodes a GPU of its own, but this host has 2 (its GPUs: 0 $uuid0" "$err"
  expect 2 "one GPU for two nodes is refused" -- "$cli" up "${g2[@]}" --workers 2 --gpus "$name-worker=0,$name-worker2=GPU-${uuid0#GPU-}"
  has "naming both nodes" "GPU 0 is given to both $name-worker and $name-worker2" "$err"
  expect 2 "a GPU with MIG on is refused" -- "$cli" up --name "$name" --config "$work/kindmps.yaml" --driver-root "$mig" \
    --dev-root "$mig" --proc-root "$mig" --kind "$kind" --workers 2 --gpus one-per-node
  has "in one line" "GPU 1 (GPU-" "$err"
  eq "nothing was made" "$(nodes)" 0
  expect 0 "up gives each worker a GPU of its own" -- "$cli" up "${g2[@]}" --workers 2 --gpus one-per-node --json
  eq "healthy" "$(json 'd["healthy"]' <<<"$out")" True
  eq "the assignment is in the document" "$(json '[n.get("assignedGpus") for n in d["nodes"]]' <<<"$out")" "[None, [0], [1]]"
  eq "no shared-GPU note" "$(json 'len(d["notes"])' <<<"$out")" 0
  eq "the first worker has /dev/nvidia0 only" "$(docker exec "$name-worker" sh -c 'ls /dev/nvidia[0-9]*' | tr '\n' ' ')" "/dev/nvidia0 "
  eq "the second /dev/nvidia1 only" "$(docker exec "$name-worker2" sh -c 'ls /dev/nvidia[0-9]*' | tr '\n' ' ')" "/dev/nvidia1 "
  eq "the control plane is no GPU node and keeps its devices unmounted" \
    "$(docker exec "$name-control-plane" sh -c 'ls /dev/nvidia[0-9]* 2>/dev/null' | wc -l)" 0
  daemon_env() {
    docker exec "$1" sh -c 'for p in /proc/[0-9]*; do [ "$(tr "\0" " " <$p/cmdline 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] && tr "\0" "\n" <$p/environ; done' |
      sed -n 's/^CUDA_VISIBLE_DEVICES=//p'
  }
  eq "the first worker's daemon serves GPU 0 by UUID" "$(daemon_env "$name-worker")" "$uuid0"
  eq "the second's GPU 1" "$(daemon_env "$name-worker2")" "$uuid1"
  expect 0 "status is healthy" -- "$cli" status --name "$name"
  has "its GPU column names each worker's GPU" "$name-worker2 *worker *yes *1 " "$out"
  expect 0 "status --json lists them" -- "$cli" status --name "$name" --json
  eq "by device minor" "$(json '[n.get("gpus") for n in d["nodes"]]' <<<"$out")" "[None, [0], [1]]"
  expect 0 "mps --gpu 1 reaches the daemon of the node that has GPU 1" -- "$cli" mps -n "$name" --gpu 1 --json get_server_list
  eq "the second worker" "$(json '[r["node"] for r in d["replies"]]' <<<"$out")" "['$name-worker2']"
  expect 0 "mps --gpu UUID too" -- "$cli" mps -n "$name" --gpu "$uuid0" --json get_server_list
  eq "the first worker" "$(json '[r["node"] for r in d["replies"]]' <<<"$out")" "['$name-worker']"
  expect 1 "mps --gpu of a GPU no node has" -- "$cli" mps -n "$name" --gpu 5 get_server_list
  has "says so" "no GPU node of cluster $name has GPU 5" "$err"
  expect 2 "mps --gpu with --all" -- "$cli" mps -n "$name" --gpu 0 --all get_server_list
  expect 0 "pod --gpu 1 places the Pod on the node that has GPU 1" -- "$cli" pod cuda-1 --name "$name" --gpu 1 --image busybox -- true
  has "by its hostname" "kubernetes.io/hostname: $name-worker2" "$out"
  expect 1 "pod --gpu of a GPU no node has" -- "$cli" pod cuda-5 --name "$name" --gpu 5 --image busybox -- true
  eq "prints no manifest" "$out" ""
  expect 2 "another assignment needs --recreate" -- "$cli" up "${g2[@]}" --workers 2 --gpus all
  has "naming the difference" "gpus one-per-node -> all" "$err"
  docker exec "$name-worker" mknod /dev/nvidia1 c 195 1
  expect 1 "status: a node with another's GPU is unhealthy" -- "$cli" status --name "$name"
  has "naming it" "node $name-worker has the device nodes of 2 GPUs \[0, 1\], but was given 1 (gpus one-per-node)" "$out$err"
  expect 0 "up takes a GPU that came back away again" -- "$cli" up "${g2[@]}" --workers 2 --gpus one-per-node
  has "and says so" "GPU 0 (removed /dev/nvidia{1})" "$out$err"
  expect 0 "down deletes" -- "$cli" down "${common[@]}" --kind "$kind"
  ;;
pergpu)
  # One GPU node of a two-GPU host with a daemon per GPU: each in its own pipe directory, serving
  # its GPU by UUID with its own settings; status, mps and pod address each GPU's.
  host2=$("$src/tools/make-fake-host.sh" "$work/host2" "$emu" --gpus 2)
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\nmps:\n  daemons: perGpu\n  perGpu:\n    - gpu: "1"\n      defaultActiveThreadPercentage: 50\n' > "$work/kindmps.yaml"
  g2=(--name "$name" --config "$work/kindmps.yaml" --driver-root "$host2" --dev-root "$host2" --proc-root "$host2" --kind "$kind")
  node=$name-control-plane
  uuid1=$(awk '$1 == 1 {print $2}' "$host2/etc/kindmps-fake-gpus")
  sed 's/gpu: "1"/gpu: "7"/' "$work/kindmps.yaml" > "$work/bad.yaml"
  expect 2 "perGpu settings of a GPU the host lacks are refused" -- "$cli" up --name "$name" --config "$work/bad.yaml" \
    --driver-root "$host2" --dev-root "$host2" --proc-root "$host2" --kind "$kind"
  has "naming it" "mps.perGpu: GPU 7 is no GPU node's" "$err"
  eq "nothing was made" "$(nodes)" 0
  expect 0 "up starts a daemon per GPU" -- "$cli" up "${g2[@]}" --json
  eq "healthy" "$(json 'd["healthy"]' <<<"$out")" True
  eq "one daemon per GPU in the document" "$(json '[(x["gpu"], x["pipeDirectory"]) for x in d["nodes"][0]["daemons"]]' <<<"$out")" \
    "[(0, '/tmp/nvidia-mps/gpu0'), (1, '/tmp/nvidia-mps/gpu1')]"
  eq "each with its server" "$(json '[len(x["servers"]) for x in d["nodes"][0]["daemons"]]' <<<"$out")" "[1, 1]"
  pipe_env() {
    docker exec "$node" sh -c 'for p in /proc/[0-9]*; do [ "$(tr "\0" " " <$p/cmdline 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] && tr "\0" "\n" <$p/environ | grep -e ^CUDA_MPS_PIPE -e ^CUDA_VIS | tr "\n" " " && echo; done' | sort
  }
  eq "two control daemons in the node" "$(pipe_env | wc -l)" 2
  has "GPU 1's daemon serves GPU 1 by UUID in its pipe directory" "CUDA_VISIBLE_DEVICES=$uuid1 CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps/gpu1 " "$(pipe_env)"
  expect 0 "mps --gpu 1 reaches GPU 1's daemon, with its own setting" -- "$cli" mps -n "$name" --gpu 1 get_default_active_thread_percentage
  has "50" "50" "$out"
  expect 0 "mps --gpu 0: the other's" -- "$cli" mps -n "$name" --gpu 0 get_default_active_thread_percentage
  has "100" "100" "$out"
  expect 0 "mps without --gpu asks every daemon of the node" -- "$cli" mps -n "$name" --json get_server_list
  eq "one reply per GPU" "$(json '[(r["node"], r["gpu"]) for r in d["replies"]]' <<<"$out")" "[('$node', 0), ('$node', 1)]"
  expect 0 "status is healthy" -- "$cli" status --name "$name"
  has "with a row per GPU's daemon" "GPU 1 .*/tmp/nvidia-mps/gpu1/control" "$out"
  cdi=$(docker exec "$node" cat /var/run/cdi/kindmps.json)
  has "the CDI spec has a device per GPU" "\"$node-gpu1\"" "$cdi"
  expect 0 "pod --gpu 1 uses GPU 1's pipe directory" -- "$cli" pod cuda-1 --name "$name" --gpu 1 --image busybox -- true
  has "as its hostPath" "path: /tmp/nvidia-mps/gpu1" "$out"
  expect 2 "pod without --gpu is refused (which GPU?)" -- "$cli" pod cuda-x --name "$name" --image busybox -- true
  has "saying so" "runs an MPS daemon per GPU" "$err"
  expect 0 "pod --gpu 1 --access cdi asks for GPU 1's devices" -- "$cli" pod cuda-1 --name "$name" --gpu 1 --access cdi --image busybox -- true
  has "kindmps.dev/mps-gpu1" "kindmps.dev/mps-gpu1: \"\?1" "$out"
  expect 0 "pod --access cdi without --gpu lets the device plugin choose" -- "$cli" pod cuda-any --name "$name" --access cdi --image busybox -- true
  has "from kindmps.dev/mps" "kindmps.dev/mps: \"\?1" "$out"
  if [ -n "$out" ] && ! grep -q CUDA_MPS_PIPE_DIRECTORY <<<"$out"; then ok "it names no pipe directory (the device does)"; else bad "it names a pipe directory, or printed nothing" "$out"; fi
  expect 0 "GPU 1's daemon quits" -- "$cli" mps -n "$name" --gpu 1 quit
  expect 1 "status: GPU 1 has no daemon" -- "$cli" status --name "$name"
  has "naming the GPU" "node $node GPU 1: no MPS control daemon runs for it" "$out$err"
  expect 0 "up starts it again" -- "$cli" up "${g2[@]}"
  has "and says which" "GPU 1 control daemon pid [0-9]* (started)" "$out$err"
  expect 0 "healthy again" -- "$cli" status --name "$name"
  expect 2 "per-GPU settings without a daemon per GPU are refused" -- "$cli" up "${g2[@]}" --mps-daemons per-node
  has "saying why" "mps.perGpu: settings per GPU need a daemon per GPU" "$err"
  printf 'apiVersion: kindmps.dev/v1alpha1\nkind: Config\n' > "$work/pernode.yaml"
  expect 2 "another daemon layout needs --recreate" -- "$cli" up --name "$name" --config "$work/pernode.yaml" \
    --driver-root "$host2" --dev-root "$host2" --proc-root "$host2" --kind "$kind"
  has "naming the difference" "mps.daemons perGpu -> perNode" "$err"
  expect 0 "down deletes" -- "$cli" down "${common[@]}" --kind "$kind"
  ;;
*) echo "unknown scenario $scenario"; exit 2 ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
