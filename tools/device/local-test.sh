#!/bin/bash
# Rehearses tools/device/gpu-e2e.sh on a machine WITHOUT a GPU, against the local Docker engine
# (tools/setup-docker.sh): a throwaway kit whose kindmps-api is a small test double (python3,
# docker CLI), the project's stand-in kind, shell stand-ins for the CUDA programs and /dev/zero
# instead of the GPU device nodes. It checks the harness itself: node image, config, nodes with
# shareable IPC, pods joined to a node's IPC namespace and pipe directory, the benchmark's start
# barrier, result collection, aggregation, summary and the 8-file $OUT. GPU facts are not checked.
#
#   tools/device/local-test.sh [FAKE_KIND]      (default tools/fake-kind/kind)
# Env: KMPS_LOCAL_TEST_RECORDER=path/to/kmps-recorder also records cassettes (step 6).
# Leaves its output in /tmp/kmps-local-test/out; exit 0 when the harness ran through.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fake_kind=$(realpath "${1:-$src/tools/fake-kind/kind}")
[ -f "$fake_kind" ] || { echo "local-test: no stand-in kind at $fake_kind" >&2; exit 3; }
t=/tmp/kmps-local-test
rm -rf "$t"; mkdir -p "$t/kit" "$t/stage/bin" "$t/stage/lib" "$t/stage/libexec/fake-kind" "$t/out"
"$src/tools/setup-docker.sh" >/dev/null

cp "$fake_kind" "$t/stage/libexec/fake-kind/kind"
if ! grep -q KMPS_FAKE_KIND_IPC "$fake_kind"; then
  # The stand-in kind has no KMPS_FAKE_KIND_IPC yet: add it to this throwaway copy only.
  python3 - "$t/stage/libexec/fake-kind/kind" <<'EOF'
import sys
p = sys.argv[1]; s = open(p).read()
old = '    args += [image, "sleep", "2147483647"]'
assert old in s
s = s.replace(old, '    if os.environ.get("KMPS_FAKE_KIND_IPC"):\n'
              '        args += ["--ipc", os.environ["KMPS_FAKE_KIND_IPC"]]\n' + old)
open(p, "w").write(s)
EOF
  echo "local-test: patched a copy of the stand-in kind with KMPS_FAKE_KIND_IPC"
fi
# bin/kind exactly as make-kit.sh writes it.
sed -n "/^cat >\"\$stage\/bin\/kind\" <<'EOF'$/,/^EOF$/p" "$src/tools/device/make-kit.sh" | sed '1d;$d' >"$t/stage/bin/kind"
chmod +x "$t/stage/bin/kind" "$t/stage/libexec/fake-kind/kind"

cat >"$t/stage/bin/kindmps-api" <<'EOF'
#!/usr/bin/env python3
"""Test double of kindmps-api for tools/device/local-test.sh: just enough of the CLI's surface."""
import json, os, subprocess, sys, tempfile, yaml
a = sys.argv[1:]
def opt(name, default=None):
    return a[a.index(name) + 1] if name in a else default
def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True).stdout
def kind_config(cfg):
    mounts = [{"hostPath": m["hostPath"], "containerPath": m["containerPath"],
               "readOnly": bool(m.get("readOnly", True))} for m in cfg.get("extraMounts", [])]
    mounts.append({"hostPath": "/bin/busybox", "containerPath": "/usr/bin/nvidia-smi", "readOnly": True})
    nodes = [{"role": "control-plane", "extraMounts": mounts}] + \
            [{"role": "worker", "extraMounts": mounts} for _ in range(cfg.get("workers", 0))]
    return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": nodes}
STATE = "/tmp/kmps-local-test/atp"
cmd = a[0] if a else ""
if cmd == "--version":
    print("kindmps-api test-double")
elif cmd == "inspect":
    lib = {"soname": "libcuda.so.1", "path": "/usr/local/nvidia/lib64/libcuda.so.test"}
    print(json.dumps({"libraries": [lib]}) if "--json" in a else "libcuda.so.1 => " + lib["path"])
elif cmd == "config":
    cfg = yaml.safe_load(open(opt("--config")))
    kc = kind_config(cfg)
    kc["nodes"][0]["extraMounts"].append({"hostPath": "/bin/busybox", "containerPath":
                                          "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "readOnly": True})
    kc["nodes"][0]["extraMounts"].append({"hostPath": "/bin/busybox", "containerPath":
                                          "/usr/bin/nvidia-cuda-mps-control", "readOnly": True})
    open(opt("--output"), "w").write(yaml.safe_dump(kc))
elif cmd == "up":
    cfg = yaml.safe_load(open(opt("--config")))
    name = opt("--name", cfg["name"])
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(kind_config(cfg), f)
    subprocess.run([opt("--kind", "kind"), "create", "cluster", "--name", name, "--config", f.name], check=True)
    for role in cfg.get("gpuNodes") or ["control-plane", "worker"]:
        n = "%s-%s" % (name, role)
        sh("docker", "exec", n, "sh", "-c",
           "mount -o remount,size=8g /dev/shm && mkdir -p /var/log/nvidia-mps /tmp/nvidia-mps && "
           "for b in nvidia-cuda-mps-control nvidia-cuda-mps-server; do "
           "printf 'sleep 100000\\n' >/run/$b; done && "
           "echo 'NEW CLIENT 1 from user 0' >/tmp/nvidia-mps/control.log && : >/var/log/nvidia-mps/server.log && "
           "ln -sf /tmp/nvidia-mps/control.log /var/log/nvidia-mps/control.log")
        sh("docker", "exec", "-d", n, "sh", "/run/nvidia-cuda-mps-control", "-d")
        sh("docker", "exec", "-d", n, "sh", "/run/nvidia-cuda-mps-server")
    print(json.dumps({"cluster": name, "ok": True}))
elif cmd == "status":
    name = opt("--name")
    out = sh("docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=" + name, "--format", "{{.Names}}")
    print(json.dumps({"cluster": name, "nodes": out.split()}))
    sys.exit(0 if out.split() else 1)
elif cmd == "ps":
    print(sh("docker", "top", a[1]), end="")
elif cmd == "mps":
    rest = [x for x in a[1:] if x not in ("--all",)]
    for o in ("--name", "--node"):
        if o in rest:
            i = rest.index(o); del rest[i:i + 2]
    c = rest[0] if rest else ""
    if c == "get_server_list": print(64)
    elif c == "get_client_list": print(57)
    elif c == "get_server_status": print("ACTIVE")
    elif c == "get_default_active_thread_percentage":
        print(open(STATE).read().strip() if os.path.exists(STATE) else "100.0")
    elif c == "set_default_active_thread_percentage":
        open(STATE, "w").write("%.1f" % float(rest[1])); print("%.1f" % float(rest[1]))
    else: print('Unknown command "%s"' % c); sys.exit(1)
elif cmd == "exec":
    i = a.index("--")
    os.execvp("docker", ["docker", "exec", a[1]] + a[i + 1:])
elif cmd == "down":
    subprocess.run(["kind", "delete", "cluster", "--name", opt("--name")], check=True)
else:
    sys.stderr.write("kindmps-api test-double: unknown command %s\n" % cmd); sys.exit(2)
EOF
chmod +x "$t/stage/bin/kindmps-api"
# A recorder built elsewhere (e.g. build/tools/recorder/kmps-recorder) makes step 6 testable too.
if [ -n "${KMPS_LOCAL_TEST_RECORDER:-}" ]; then cp "$KMPS_LOCAL_TEST_RECORDER" "$t/stage/bin/kmps-recorder"; fi
tar -C "$t/stage" -cJf "$t/kit/kmps.tar.xz" .
if [ -s "$src/.device/kit/docker.xz" ]; then cp "$src/.device/kit/docker.xz" "$t/kit/"
else xz -0 -T0 -c /usr/bin/docker >"$t/kit/docker.xz"; fi
: >"$t/kit/docker-bundle.tar.xz"   # unused: the local engine already answers
echo "local-test kit (test double CLI)" >"$t/kit/MANIFEST.txt"

cd "$src"
set +e
OUT=$t/out KMPS_KIT=$t/kit KMPS_E2E_DEVICES=/dev/zero KMPS_E2E_FAKE_CUDA=1 KMPS_BENCH_SECONDS=1 \
  KMPS_BENCH_KS="1 2" timeout 300 bash tools/device/gpu-e2e.sh >"$t/run.txt" 2>&1
rc=$?
set -e
echo "local-test: gpu-e2e.sh rc=$rc"
cat "$t/out/summary.txt"
n=$(find "$t/out" -type f | wc -l)
echo "local-test: $n files in OUT: $(cd "$t/out" && echo *)"
cat "$t/out/bench.md"
fails=$(grep -E '^STEP (0|2|3|4|bench|5): ' "$t/out/summary.txt" | grep -vc ': PASS' || true)
[ "$n" -le 8 ] && [ "$fails" = 0 ] || { echo "local-test: FAILED (steps 0,2-5,bench must pass; <= 8 files)"; exit 1; }
echo "local-test: ok (steps 1 and 6 need the real CLI / recorder)"
