# Sourced: an apt of its own for Debian trixie packages, beside the system's (bookworm) apt, with
# its lists and downloads under the kindmps cache. Nothing of the system's apt state is touched.
#   trixie_apt_init                 fetches the package lists (once a day at most)
#   trixie_apt_download DIR PKG...  downloads the .debs of PKG... into DIR
trixie_apt_dir() { echo "${KMPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kindmps}/apt-trixie"; }
trixie_apt_opts() {
  local d; d=$(trixie_apt_dir)
  echo "-o Dir::Etc::sourcelist=$d/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$d/lists" \
       "-o Dir::Cache=$d/cache -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
}
trixie_apt_init() {
  local d; d=$(trixie_apt_dir)
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  echo "deb ${DEBIAN_MIRROR:-http://deb.debian.org/debian} trixie main" > "$d/sources.list"
  if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    # shellcheck disable=SC2046
    apt-get $(trixie_apt_opts) update -qq >&2 || { echo "trixie-apt: apt-get update for trixie failed" >&2; return 1; }
  fi
}
trixie_apt_download() {
  local dir=$1; shift
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  (cd "$dir" && apt-get $(trixie_apt_opts) download -qq "$@" >&2) ||
    { echo "trixie-apt: could not download $* from trixie" >&2; return 1; }
}
