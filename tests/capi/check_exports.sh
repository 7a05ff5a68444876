#!/bin/bash
# Checks the ABI surface of libkindmps.so: every exported symbol is kmps_* (plus the version node
# KINDMPS_0), every kmps_ function of the header is exported, and the SONAME is libkindmps.so.0.
# usage: check_exports.sh LIBRARY HEADER
set -euo pipefail
lib=$1 header=$2
fail=0

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != libkindmps.so.0 ]; then
  echo "SONAME is '$soname', expected libkindmps.so.0"; fail=1
fi

# "ADDRESS TYPE NAME@@VERSION"; the version node itself is an absolute symbol.
exported=$(nm -D --defined-only "$lib")
bad=$(echo "$exported" | awk '!($3 ~ /^kmps_[a-z0-9_]+@@KINDMPS_0$/) && !($2 == "A" && $3 ~ /^KINDMPS_0(@@KINDMPS_0)?$/)')
if [ -n "$bad" ]; then
  echo "symbols exported besides kmps_*:"; echo "$bad" | head -50; fail=1
fi
have=$(echo "$exported" | awk '$3 ~ /^kmps_/ {sub(/@.*/, "", $3); print $3}' | sort -u)
want=$(grep -o '^KMPS_API [^(]*(' "$header" | sed 's/($//; s/.*[ *]//' | sort -u)
if [ "$have" != "$want" ]; then
  echo "exported kmps_ functions differ from the header's (< exported, > header):"
  diff <(echo "$have") <(echo "$want") || true
  fail=1
fi
# Nothing of the C++ runtime is exported (the library must not leak its own typeinfo or
# operator new to the process).
if nm -D --defined-only "$lib" | grep -E ' (_Z|__cxa|typeinfo)' >/dev/null; then
  echo "C++ symbols are exported"; fail=1
fi
[ $fail = 0 ] && echo "exports ok: $(echo "$have" | wc -l) kmps_ functions, SONAME $soname"
exit $fail
