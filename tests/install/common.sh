# Sourced by the install tests (tests/install/*.sh, tests/capi/install_consumers.sh).

# kmps_install BUILD_DIR NAME: `cmake --install` of BUILD_DIR into a temporary prefix. Sets tmp
# (a temporary directory, removed on exit), prefix, pcdir (where kindmps.pc is) and libdir.
kmps_install() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmps-$2.XXXXXX")
  # chmod: Go's module cache is read-only.
  trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
  prefix=$tmp/prefix
  cmake --install "$1" --prefix "$prefix" >/dev/null
  local pc
  pc=$(find "$prefix" -name kindmps.pc)
  [ -n "$pc" ] || { echo "no kindmps.pc installed under $prefix"; exit 1; }
  pcdir=$(dirname "$pc")
  libdir=$(dirname "$pcdir")
}

# kmps_loads_installed EXE: fails unless EXE loads libkindmps.so.0 from $libdir (not the build
# tree's, not a system-wide one).
kmps_loads_installed() {
  local got
  got=$(ldd "$1" | awk '$1 == "libkindmps.so.0" {print $3}')
  if [ -z "$got" ] || [ "$(realpath "$got")" != "$(realpath "$libdir/libkindmps.so.0")" ]; then
    echo "$1 does not load the installed library:"; ldd "$1"; exit 1
  fi
}
