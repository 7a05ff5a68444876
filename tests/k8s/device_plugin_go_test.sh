#!/bin/bash
# The Go tests of the node image's device plugin (tools/node-image/device-plugin: the spec it
# reads, its devices per GPU, Allocate and the preferred allocation), with the Go that
# tools/node-image builds it with.
set -euo pipefail
here=$(cd "$(dirname "$0")/../../tools/node-image" && pwd)
. "$here/lib.sh"
need_go
cd "$here/device-plugin"
exec go test -count=1 -v ./...
