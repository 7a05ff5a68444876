#!/bin/bash
# Re-records fixtures/cassettes/busybox-node-exec.json with kmps-recorder against the local
# Docker engine (tools/setup-docker.sh). Rerunnable: uses a fresh container name, removes the
# container, and overwrites the cassette. See docs/fixtures.md.
#   tools/recorder/record-busybox-node.sh [BUILD_DIR]       (default: build)
# Env: DOCKER_SOCK (default /var/run/docker.sock), KMPS_TEST_IMAGE (default kmps-test:busybox),
#      OUT (default fixtures/cassettes/busybox-node-exec.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
docker_sock=${DOCKER_SOCK:-/var/run/docker.sock}
image=${KMPS_TEST_IMAGE:-kmps-test:busybox}
out=${OUT:-fixtures/cassettes/busybox-node-exec.json}
recorder=$build/tools/recorder/kmps-recorder

[ -x "$recorder" ] || cmake --build "$build" --target kmps-recorder
tools/setup-docker.sh >/dev/null

# A unique name, scrubbed in the cassette to a fixed one of the same length.
name=kmpsrec-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
stable=kmpsrec-node0000
work=$(mktemp -d /tmp/kmps-record-XXXXXX)
sock=$work/rec.sock
id=

cleanup() {
  [ -n "${rec_pid:-}" ] && kill -INT "$rec_pid" 2>/dev/null && wait "$rec_pid" || true
  curl -s -o /dev/null --unix-socket "$docker_sock" -X DELETE "http://localhost/v1.41/containers/$name?force=1" || true
  rm -rf "$work"
}
trap cleanup EXIT

"$recorder" --listen "$sock" --upstream "$docker_sock" --out "$out" --scrub "$name=$stable" \
  --description "Docker 20.10 (API 1.41), static busybox node $stable with CapAdd SYS_ADMIN: ping, version, label-filtered list, inspect, exec create/start/inspect (exit 3 with stdout+stderr, missing binary, cat /proc/mounts), top with ps_args, top on an unknown container (404), exec on a stopped container (409). Recorded by tools/recorder/record-busybox-node.sh." &
rec_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { echo "record: kmps-recorder did not listen on $sock" >&2; exit 1; }

# req LABEL METHOD PATH [JSON_BODY]: one request through the recorder; prints the body.
req() {
  local label=$1 method=$2 path=$3 body=${4:-}
  local args=(-sS --unix-socket "$sock" -X "$method" -H "X-Kmps-Label: $label")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  curl "${args[@]}" "http://localhost$path"
}
json_id() { sed -n 's/.*"Id":"\([0-9a-f]\{64\}\)".*/\1/p'; }
# Waits (outside the recording) until the exec has finished, so that the recorded inspect shows
# the exit code rather than the Running:true race right after the stream closes.
settle() {
  for _ in $(seq 50); do
    curl -s --unix-socket "$docker_sock" "http://localhost/v1.41/exec/$1/json" | grep -q '"Running":false' && return
    sleep 0.1
  done
}
# exec3 LABEL CMD_JSON: create, start (framed stream), inspect.
exec3() {
  local eid
  eid=$(req "$1:create" POST "/v1.41/containers/$id/exec" \
    "{\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"Cmd\":$2}" | json_id)
  [ -n "$eid" ] || { echo "record: exec create for $1 failed" >&2; exit 1; }
  req "$1:start" POST "/v1.41/exec/$eid/start" '{"Detach":false,"Tty":false}' >/dev/null
  settle "$eid"
  req "$1:inspect" GET "/v1.41/exec/$eid/json" >/dev/null
}

# Two requests on one keep-alive connection (default labels "GET /_ping", "GET /version").
curl -sS --unix-socket "$sock" -o /dev/null -o /dev/null http://localhost/_ping http://localhost/v1.41/version

id=$(req create POST "/v1.41/containers/create?name=$name" \
  "{\"Image\":\"$image\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"io.kmps.recording\":\"$name\"},\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"]}}" | json_id)
[ -n "$id" ] || { echo "record: container create failed (image $image?)" >&2; exit 1; }
req start POST "/v1.41/containers/$id/start" >/dev/null
filters=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
  "{\"label\":[\"io.kmps.recording=$name\"]}")
req list GET "/v1.41/containers/json?filters=$filters" >/dev/null
req inspect GET "/v1.41/containers/$id/json" >/dev/null

exec3 exit3 '["sh","-c","echo out; echo err >&2; exit 3"]'
exec3 missing '["no-such-binary"]'
exec3 mounts '["cat","/proc/mounts"]'

req top GET "/v1.41/containers/$id/top?ps_args=-eo%20pid,ppid,user,args" >/dev/null
req top-404 GET "/v1.41/containers/kmps-no-such-container/top?ps_args=aux" >/dev/null
req stop POST "/v1.41/containers/$id/stop?t=0" >/dev/null
req exec-stopped POST "/v1.41/containers/$id/exec" '{"AttachStdout":true,"AttachStderr":true,"Tty":false,"Cmd":["true"]}' >/dev/null
req remove DELETE "/v1.41/containers/$id?force=1" >/dev/null

kill -INT "$rec_pid"
wait "$rec_pid"
rec_pid=
echo "record: wrote $out"
