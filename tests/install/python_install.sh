#!/bin/bash
# `pip install bindings/python` into a fresh virtual environment, against the project installed
# into a temporary prefix: `import kindmps` must find that prefix's libkindmps through
# PKG_CONFIG_PATH alone (no KINDMPS_LIBRARY, no LD_LIBRARY_PATH), kindmps.__version__ and the
# installed distribution's version must be the project's, and a library call must work.
# Offline: the venv gets pip and setuptools from ensurepip and Debian's wheel .whl
# (python3-wheel-whl), and the package is built with --no-build-isolation --no-index.
# usage: python_install.sh BUILD_DIR SOURCE_DIR   (env: KMPS_EXPECTED_VERSION, KMPS_PYTHON)
set -euo pipefail
build=$1 src=$2
python=${KMPS_PYTHON:-/usr/bin/python3}
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
kmps_install "$build" py-install

"$python" -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip --disable-pip-version-check --no-input --quiet)
wheel=$(ls /usr/share/python-wheels/wheel-*.whl 2>/dev/null | head -n1 || true)
[ -n "$wheel" ] || { echo "no /usr/share/python-wheels/wheel-*.whl (apt-get install python3-wheel-whl)"; exit 1; }
"${pip[@]}" install --no-index "$wheel"
# A copy: pip builds in place and would leave build/ and *.egg-info in the source tree.
cp -r "$src/bindings/python" "$tmp/python"
"${pip[@]}" install --no-index --no-build-isolation "$tmp/python"
rm -rf "$tmp/python"   # what runs is the installed package, not a copy lying around

cd "$tmp"   # not the source tree: `import kindmps` must be the installed one
env -u KINDMPS_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH PKG_CONFIG_PATH="$pcdir" \
  KMPS_EXPECTED_LIBDIR="$libdir" "$tmp/venv/bin/python" - <<'PY'
import os, sys
from importlib import metadata
import kindmps

expected = os.environ.get("KMPS_EXPECTED_VERSION") or kindmps.__version__
site = os.path.realpath(os.path.join(sys.prefix, "lib"))
assert os.path.realpath(kindmps.__file__).startswith(site), f"kindmps imported from {kindmps.__file__}, not the venv"
assert kindmps.__version__ == expected, f"kindmps.__version__ {kindmps.__version__}, want {expected}"
assert metadata.version("kindmps") == expected, f"installed distribution {metadata.version('kindmps')}, want {expected}"
assert kindmps.version() == expected, f"library version {kindmps.version()}, want {expected}"
inv = kindmps.host_inspect("/nonexistent-kmps-py-install", "/nonexistent-kmps-py-install")
assert inv["complete"] is False and inv["missing"], inv
libdir = os.path.realpath(os.environ["KMPS_EXPECTED_LIBDIR"])
with open("/proc/self/maps") as f:
    loaded = {os.path.realpath(line.split()[-1]) for line in f if "libkindmps.so" in line}
assert loaded and all(os.path.dirname(p) == libdir for p in loaded), f"loaded {loaded}, want one from {libdir}"
print(f"python install ok: kindmps {kindmps.__version__} from {kindmps.__file__}, library {sorted(loaded)[0]}")
PY

# Without pkg-config's answer the failure is one line naming what was tried (unless a system-wide
# install lets the loader find one anyway).
ldcache=$(ldconfig -p 2>/dev/null || true)   # read whole: grep -q on a pipe can SIGPIPE it
if ! grep -q libkindmps <<<"$ldcache" && ! ls /usr/local/lib/libkindmps.so.0 /usr/lib/*/libkindmps.so.0 \
     /usr/lib/libkindmps.so.0 >/dev/null 2>&1; then
  err=$(env -u KINDMPS_LIBRARY -u LD_LIBRARY_PATH PKG_CONFIG_PATH=/nonexistent-kmps-py-install \
    "$tmp/venv/bin/python" -c 'import kindmps; kindmps.version()' 2>&1 | tail -n1) || true
  case $err in
    *"EnvironmentMissing: cannot load libkindmps"*"tried pkg-config: no kindmps"*) echo "not found: $err" ;;
    *) echo "unexpected failure without the library: $err"; exit 1 ;;
  esac
fi
