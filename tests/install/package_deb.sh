#!/bin/bash
# The release's Debian package: cpack -G DEB from the build tree (into a temporary directory),
# then its control fields (name, version, dependencies that dpkg-shlibdeps found, ldconfig on
# install), its contents (the CLI, libkindmps.so*, kindmps.h, kindmps.pc, the CMake package, the
# man page, the completions, the license), and, unpacked with dpkg -x into a temporary root, the
# CLI run from it and a C program built against its pkg-config file and run.
# usage: package_deb.sh BUILD_DIR SOURCE_DIR   (env: KMPS_EXPECTED_VERSION)
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmps-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package_deb: $*"; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack -G DEB failed"; }
debs=("$tmp"/out/*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "cpack made ${#debs[@]} .deb files: ${debs[*]}"
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg --print-architecture)
echo "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
[ "$(basename "$deb")" = "kindmps-api_${version}_$arch.deb" ] || fail "file name $(basename "$deb")"
[ "$(dpkg-deb -f "$deb" Package)" = kindmps-api ] || fail "Package: $(dpkg-deb -f "$deb" Package)"
[ "$version" = "${KMPS_EXPECTED_VERSION:-$version}" ] || fail "Version: $version, want $KMPS_EXPECTED_VERSION"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for d in libc6 libstdc++6 libcurl4; do
  [[ ", $depends," == *", $d "* || ", $depends," == *", $d,"* ]] || fail "Depends lacks $d: $depends"
done
# Each listing is read whole before it is searched: with pipefail, `tar ... | grep -q` fails when
# grep's early exit sends tar a SIGPIPE (it did, once in CI).
control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
grep -qx './postinst' <<<"$control" || fail "no postinst (ldconfig); the control archive holds: ${control//$'\n'/ }"
postinst=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst)
grep -q ldconfig <<<"$postinst" || fail "the postinst runs no ldconfig: $postinst"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
for f in /usr/bin/kindmps-api \
         "/usr/lib/libkindmps.so.$version" /usr/lib/libkindmps.so.0 /usr/lib/libkindmps.so \
         /usr/include/kindmps.h /usr/lib/pkgconfig/kindmps.pc \
         /usr/lib/cmake/kindmps/kindmpsConfig.cmake /usr/lib/cmake/kindmps/kindmpsConfigVersion.cmake \
         /usr/lib/cmake/kindmps/kindmpsTargets.cmake \
         /usr/share/man/man1/kindmps-api.1 /usr/share/bash-completion/completions/kindmps-api \
         /usr/share/zsh/vendor-completions/_kindmps-api /usr/share/fish/vendor_completions.d/kindmps-api.fish \
         /usr/share/doc/kindmps-api/copyright /usr/share/doc/kindmps-api/CHANGELOG.md; do
  grep -qx -- "$f" "$tmp/contents" || { cat "$tmp/contents"; fail "not in the package: $f"; }
done
# Nothing of the build or the tests (emulators, recorder, test binaries) goes into the package.
extra=$(grep -v -e '/$' -e '^/usr/bin/kindmps-api$' -e '^/usr/lib/libkindmps\.so' -e '^/usr/include/kindmps\.h$' \
  -e '^/usr/lib/pkgconfig/kindmps\.pc$' -e '^/usr/lib/cmake/kindmps/' -e '^/usr/share/man/man1/kindmps-api\.1' \
  -e '^/usr/share/bash-completion/' -e '^/usr/share/zsh/' -e '^/usr/share/fish/' -e '^/usr/share/doc/kindmps-api/' \
  "$tmp/contents" || true)
[ -z "$extra" ] || fail "unexpected files in the package: $extra"

root=$tmp/root
dpkg-deb -x "$deb" "$root"
out=$(env -u LD_LIBRARY_PATH "$root/usr/bin/kindmps-api" --version) || fail "kindmps-api --version: exit $?"
[[ $out == *"$version"* ]] || fail "kindmps-api --version says '$out', not $version"
echo "unpacked: $out"
man -l "$root/usr/share/man/man1/kindmps-api.1" >/dev/null 2>&1 || ! command -v man >/dev/null ||
  fail "man cannot read the man page"
bash -c "source '$root/usr/share/bash-completion/completions/kindmps-api'" || fail "the bash completion does not load"

# The packaged library, header and kindmps.pc (relocatable, so the unpacked tree works as a prefix).
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig
[ "$(pkg-config --modversion kindmps)" = "$version" ] || fail "pkg-config --modversion kindmps"
cat >"$tmp/v.c" <<'C'
#include <kindmps.h>
#include <stdio.h>
int main(void) { puts(kmps_version_string()); return 0; }
C
# shellcheck disable=SC2046
gcc -std=c99 -Wall -Werror "$tmp/v.c" -o "$tmp/v" $(pkg-config --cflags --libs kindmps) \
  -Wl,-rpath,"$(pkg-config --variable=libdir kindmps)"
[ "$("$tmp/v")" = "$version" ] || fail "a program linked with the packaged library says $("$tmp/v")"
echo "package ok: $(grep -vc '/$' "$tmp/contents") files"
