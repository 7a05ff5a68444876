# Shared helpers for the node-image scripts (sourced).
die() { echo "node-image: $*" >&2; exit 1; }
log() { echo "node-image: $*" >&2; }
kmps_cache_dir() { echo "${KMPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kindmps}"; }
# Go >= 1.24 (Kubernetes 1.34's go directive); the image's /usr/local/go first, then PATH.
need_go() {
  local g
  for g in /usr/local/go/bin/go "$(command -v go || true)"; do
    [ -x "$g" ] || continue
    local v; v=$("$g" env GOVERSION 2>/dev/null | sed 's/^go//')
    local maj=${v%%.*} rest=${v#*.}; local min=${rest%%.*}
    if [ "${maj:-0}" -gt 1 ] || { [ "${maj:-0}" -eq 1 ] && [ "${min:-0}" -ge 24 ]; }; then
      export PATH="$(dirname "$g"):$PATH"; export GOTOOLCHAIN=local; return 0
    fi
  done
  die "Go >= 1.24 is needed to build Kubernetes $K8S_VERSION (found: $(go version 2>/dev/null || echo none)); install it and retry"
}
# The go.mod file of MODULE@VERSION, downloaded through the Go module proxy.
go_mod_of() {
  local f
  f=$(go mod download -json "$1" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [ -f "$f" ] || die "could not download $1 from the Go module proxy"
  echo "$f"
}
# Builds PACKAGES of the module that DIR/go.mod (a wrapper module) requires, into OUT.
#   build_in_wrapper DIR OUT LDFLAGS MODULE@VERSION PACKAGE...
build_in_wrapper() {
  local dir=$1 out=$2 ldflags=$3 mod=$4; shift 4
  printf 'package main\n\nfunc main() {}\n' > "$dir/main.go"
  (cd "$dir" && GOFLAGS=-mod=mod go get "$mod" >/dev/null 2>&1 || true
   cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$@")
}
