#!/bin/bash
# Assembles the kit that travels to the GPU machine (which reaches no package registry and has no
# Docker) for tools/device/gpu-e2e.sh. Run it HERE, on the Debian build machine, after a build.
#
#   tools/device/make-kit.sh BUILD_DIR [OUT_DIR]        (OUT_DIR default: .device/kit, git-ignored)
#
# OUT_DIR then holds (about 50 MiB; carry it with the device tool as `.device/kit`):
#   docker-bundle.tar.xz  dockerd, containerd, shim, runc, docker-init, static busybox and their
#                         non-glibc libraries (tools/device/make-docker-bundle.sh)
#   docker.xz             the docker CLI (Debian's docker.io), needed by the stand-in kind
#   kmps.tar.xz           bin/kindmps-api, bin/kmps-recorder (stripped), bin/kind (wrapper around
#                         the stand-in kind, libexec/fake-kind/), lib/ (every library ldd lists for
#                         our binaries except glibc and the C++ runtime, which the GPU host has),
#                         bench/{vadd,mps_client} (prebuilt for sm_90, used if nvcc is missing there)
#   MANIFEST.txt          sizes, sha256, source commit
# Env: KMPS_KIT_MAX_MIB (default 55): fail if the kit is larger.
#      KMPS_KIT_REBUILD=1: rebuild docker-bundle.tar.xz and docker.xz even if present.
#      KMPS_KIT_ALLOW_MISSING=1: assemble even without kmps-recorder or the stand-in kind (tests).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath "${1:?usage: make-kit.sh BUILD_DIR [OUT_DIR]}")
out=$(realpath -m "${2:-$src/.device/kit}")
max_mib=${KMPS_KIT_MAX_MIB:-55}
die() { echo "make-kit: $*" >&2; exit 1; }
note() { echo "make-kit: $*" >&2; }

find_bin() {  # the newest executable called $1 under the build dir
  find "$build" -type f -name "$1" -perm -u+x -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -1 | cut -d' ' -f2-
}
api=$(find_bin kindmps-api); [ -n "$api" ] || die "no kindmps-api under $build (build it first)"
rec=$(find_bin kmps-recorder)
fake_kind_dir=$src/tools/fake-kind
lack=()
[ -n "$rec" ] || lack+=("kmps-recorder (under $build)")
[ -f "$fake_kind_dir/kind" ] || lack+=("$fake_kind_dir/kind")
if [ ${#lack[@]} -gt 0 ]; then
  [ "${KMPS_KIT_ALLOW_MISSING:-0}" = 1 ] || die "missing: ${lack[*]}"
  note "WARNING missing: ${lack[*]} (KMPS_KIT_ALLOW_MISSING=1)"
fi
command -v nvcc >/dev/null || PATH=$PATH:/usr/local/cuda/bin
mkdir -p "$out"

# 1. The Docker engine bundle (slow: ~1.5 min of xz), kept between runs.
# KMPS_KIT_DOCKER=0: no engine in this kit (tools/device/make-pod-kit.sh carries Docker 26).
if [ "${KMPS_KIT_DOCKER:-1}" = 1 ]; then
  if [ "${KMPS_KIT_REBUILD:-0}" = 1 ] || [ ! -s "$out/docker-bundle.tar.xz" ]; then
    note "building docker-bundle.tar.xz"
    bash "$src/tools/device/make-docker-bundle.sh" "$out/docker-bundle.tar.xz" >/dev/null
  fi
  # 2. The docker CLI: the stand-in kind runs it.
  cli=/usr/bin/docker
  [ -x "$cli" ] || die "no Debian docker CLI at $cli (apt-get install docker.io)"
  if [ "${KMPS_KIT_REBUILD:-0}" = 1 ] || [ ! -s "$out/docker.xz" ] || [ "$cli" -nt "$out/docker.xz" ]; then
    note "compressing $cli"
    xz -T0 -9 -c "$cli" >"$out/docker.xz.tmp" && mv "$out/docker.xz.tmp" "$out/docker.xz"
  fi

  # 3. Our binaries, their libraries, the stand-in kind, the CUDA programs.
fi

stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/libexec" "$stage/bench"
strip --strip-unneeded -o "$stage/bin/kindmps-api" "$api"
[ -z "$rec" ] || strip --strip-unneeded -o "$stage/bin/kmps-recorder" "$rec"
# glibc's parts and the C++ runtime exist on the GPU host (Ubuntu 24.04: newer than ours).
skip='/(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libstdc\+\+|libgcc_s)\.so|/ld-linux'
for b in "$stage"/bin/*; do
  ldd "$b" | grep -q 'not found' && die "$b: $(ldd "$b" | grep 'not found' | head -1)"
  ldd "$b" | awk '/=>/ && $3 ~ /^\// {print $3}'
done | sort -u | { grep -Ev "$skip" || true; } | while read -r l; do cp -L "$l" "$stage/lib/"; done
if [ -f "$fake_kind_dir/kind" ]; then
  cp -r "$fake_kind_dir" "$stage/libexec/fake-kind"
  find "$stage/libexec/fake-kind" \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +
fi
# bin/kind: the stand-in kind must not inherit our LD_LIBRARY_PATH (its python3 and docker CLI use
# the host's libraries) nor a DOCKER_HOST that points at the recorder (only kindmps-api's own
# traffic is recorded), so it runs against the engine's real socket. $KMPS_PYTHON: a python3
# with PyYAML (gpu-e2e.sh finds one).
cat >"$stage/bin/kind" <<'EOF'
#!/bin/sh
# Wrapper installed by tools/device/make-kit.sh around the project's stand-in kind.
here=$(cd "$(dirname "$0")/.." && pwd)
unset LD_LIBRARY_PATH
DOCKER_HOST=${KMPS_KIND_DOCKER_HOST:-unix:///var/run/docker.sock}; export DOCKER_HOST
exec "${KMPS_PYTHON:-python3}" "$here/libexec/fake-kind/kind" "$@"
EOF
chmod +x "$stage/bin/kind"
if command -v nvcc >/dev/null; then
  for p in vadd mps_client; do
    nvcc -O2 -arch=sm_90 -cudart static -o "$stage/bench/$p" "$src/bench/gpu/$p.cu" &
  done
  wait
else
  note "WARNING no nvcc here: the kit has no prebuilt CUDA programs (gpu-e2e.sh compiles them)"
fi
(cd "$src" && git rev-parse HEAD 2>/dev/null || echo unknown) >"$stage/COMMIT"
tar -C "$stage" -cf - . | xz -T0 -9 >"$out/kmps.tar.xz"

# 4. Self-check: our CLI runs from the unpacked kit in a clean environment.
chk=$(mktemp -d); tar -C "$chk" -xJf "$out/kmps.tar.xz"
ver=$(env -i LD_LIBRARY_PATH="$chk/lib" "$chk/bin/kindmps-api" --version) || die "kit's kindmps-api --version failed"
missing=$(env -i LD_LIBRARY_PATH="$chk/lib" ldd "$chk/bin/kindmps-api" | grep 'not found' || true)
rm -rf "$chk"; [ -z "$missing" ] || die "kit's kindmps-api: $missing"

{
  echo "kit for tools/device/gpu-e2e.sh, made $(date -u +%FT%TZ) on $(hostname)"
  echo "source commit: $(cd "$src" && git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "kindmps-api: $ver ($api)"
  echo "kmps-recorder: ${rec:-MISSING}"
  echo "stand-in kind: $([ -f "$fake_kind_dir/kind" ] && echo "$fake_kind_dir/kind" || echo MISSING)"
  echo "libraries: $(cd "$stage/lib" && echo *)"
  echo "bench: $(cd "$stage/bench" && echo *)"
  (cd "$out" && for f in docker-bundle.tar.xz docker.xz kmps.tar.xz; do [ -f "$f" ] || continue
     printf '%10d  %s  %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)" "$f"; done)
} >"$out/MANIFEST.txt"
cat "$out/MANIFEST.txt"
total=$(du -sb "$out" | cut -f1)
printf 'make-kit: %s: %.1f MiB in all (limit %s MiB)\n' "$out" "$(echo "$total / 1048576" | bc -l)" "$max_mib"
[ "$total" -le $((max_mib * 1048576)) ] || die "kit is larger than $max_mib MiB"
# The device tool sends the working tree (tracked + untracked-not-ignored files) plus the carried
# kit, 64 MiB at most.
tree=$(cd "$src" && git ls-files -z -co --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
printf 'make-kit: working tree %.1f MiB + kit = %.1f MiB of the 64 MiB that may travel\n' \
  "$(echo "$tree / 1048576" | bc -l)" "$(echo "($tree + $total) / 1048576" | bc -l)"
[ $((tree + total)) -le $((63 * 1048576)) ] || die "working tree + kit exceed 63 MiB"
