#!/bin/bash
# Checks the ABI surface of libkindmps.so: every exported symbol is kmps_* (plus the version node
# KINDMPS_0), the exported functions are the header's and the expected list below, each
# deprecated name is an alias of its new one, and the SONAME is libkindmps.so.0.
# usage: check_exports.sh LIBRARY HEADER
set -euo pipefail
lib=$1 header=$2
fail=0

# Every function of KINDMPS_0. A name is never taken away (programs built against it would stop
# loading): a renamed function keeps its first name as "OLD=NEW", an alias of the same address,
# declared deprecated in the header.
expected="
kmps_last_error
kmps_last_error_kind
kmps_error_kind_name
kmps_version_string
kmps_free
kmps_host_inspect
kmps_kind_config
kmps_client_new
kmps_client_free
kmps_client_ping
kmps_exec_result_free
kmps_client_exec
kmps_cluster_status
kmps_cluster_up
kmps_cluster_down
kmps_mps_command
kmps_mps_command_all
kmps_status=kmps_cluster_status
kmps_up=kmps_cluster_up
kmps_down=kmps_cluster_down
"

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
listed=$(echo "$expected" | sed '/^$/d; s/=.*//' | sort -u)
if [ "$have" != "$listed" ]; then
  echo "exported kmps_ functions differ from the expected list of check_exports.sh (< exported, > expected):"
  diff <(echo "$have") <(echo "$listed") || true
  fail=1
fi
address() { echo "$exported" | awk -v s="$1@@KINDMPS_0" '$3 == s {print $1}'; }
for pair in $(echo "$expected" | grep '='); do
  old=${pair%=*} new=${pair#*=}
  if [ -z "$(address "$old")" ] || [ "$(address "$old")" != "$(address "$new")" ]; then
    echo "$old is not an alias of $new: addresses '$(address "$old")' and '$(address "$new")'"; fail=1
  fi
  # The declaration of the old name (up to its ';') says which name replaces it.
  if ! sed -n "/^KMPS_API [^(]*[ *]$old(/,/;/p" "$header" | grep -q "KMPS_DEPRECATED(\"use $new\")"; then
    echo "$header does not declare $old deprecated in favour of $new"; fail=1
  fi
done
# Nothing of the C++ runtime is exported (the library must not leak its own typeinfo or
# operator new to the process).
if nm -D --defined-only "$lib" | grep -E ' (_Z|__cxa|typeinfo)' >/dev/null; then
  echo "C++ symbols are exported"; fail=1
fi
[ $fail = 0 ] && echo "exports ok: $(echo "$have" | wc -l) kmps_ functions ($(echo "$expected" | grep -c '=') deprecated aliases), SONAME $soname"
exit $fail
