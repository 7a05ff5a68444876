#!/bin/bash
# Every error kind of the header (KMPS_ERROR_*, but NONE) has a row in docs/c-api.md's table of
# kinds, so that the document cannot fall behind the one table in src/capi/capi_errors.cc.
# usage: check_doc_kinds.sh HEADER DOC
set -euo pipefail
header=$1 doc=$2
rows=$(grep -E '^\| `[A-Z_]+`' "$doc" | cut -d'|' -f2)
missing=0
for kind in $(grep -oE '^ *KMPS_ERROR_[A-Z_]+ *(=[^,]*)?,?' "$header" | sed -E 's/^ *KMPS_ERROR_([A-Z_]+).*/\1/' | sort -u); do
  [ "$kind" = NONE ] && continue
  if ! grep -q "\`$kind\`" <<<"$rows"; then
    echo "$doc: no row for KMPS_ERROR_$kind in the table of kinds"; missing=1
  fi
done
[ "$missing" = 0 ] && echo "every KMPS_ERROR_* of $header has a row in $doc"
exit "$missing"
