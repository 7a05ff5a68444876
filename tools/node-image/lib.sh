# Shared helpers for the node-image scripts (sourced).
die() { echo "node-image: $*" >&2; exit 1; }
log() { echo "node-image: $*" >&2; }
kmps_cache_dir() { echo "${KMPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kindmps}"; }
# Go >= 1.24 (Kubernetes 1.34's go directive): /usr/local/go, else the one on PATH, else Debian
# trixie's golang-1.24 unpacked under the kindmps cache (so a machine with an older Go still builds).
go_is_new_enough() {
  local v; v=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  local maj=${v%%.*} rest=${v#*.}; local min=${rest%%.*}
  [ "${maj:-0}" -gt 1 ] || { [ "${maj:-0}" -eq 1 ] && [ "${min:-0}" -ge 24 ]; }
}
need_go() {
  local g trixie_go; trixie_go=$(kmps_cache_dir)/go-trixie/usr/lib/go-1.24/bin/go
  for g in /usr/local/go/bin/go "$(command -v go || true)" "$trixie_go"; do
    if [ -x "$g" ] && go_is_new_enough "$g"; then
      export PATH="$(dirname "$g"):$PATH" GOTOOLCHAIN=local; return 0
    fi
  done
  install_trixie_go "$(kmps_cache_dir)/go-trixie"
  export PATH="$(dirname "$trixie_go"):$PATH" GOTOOLCHAIN=local
}
install_trixie_go() { # DIR
  log "no Go >= 1.24 here; unpacking Debian trixie's golang-1.24 into $1"
  . "$(dirname "${BASH_SOURCE[0]}")/../trixie-apt.sh"
  local debs; debs=$(mktemp -d)
  trixie_apt_init && trixie_apt_download "$debs" golang-1.24-go golang-1.24-src ||
    die "Go >= 1.24 is needed to build Kubernetes and could not be installed; install it and retry"
  rm -rf "$1.tmp"; mkdir -p "$1.tmp"
  local d; for d in "$debs"/*.deb; do dpkg -x "$d" "$1.tmp"; done
  rm -rf "$debs" "$1"; mv "$1.tmp" "$1"
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
