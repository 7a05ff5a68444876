#!/bin/bash
# Installs the Debian 12 packages kindmps-api builds, tests and demos with. Idempotent and quick
# when everything is present.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config curl file procps
      libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libcli11-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      docker.io busybox-static python3 python3-yaml golang-go debootstrap runc
      python3-venv python3-wheel-whl    # these two: tests/install/python_install.sh (pip offline)
      clang-16 libclang-rt-16-dev llvm-16)  # tools/fuzz.sh: clang, libFuzzer, llvm-symbolizer
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
