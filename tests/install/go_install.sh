#!/bin/bash
# A Go module outside the tree that requires the binding's module (a replace directive to
# bindings/go, since nothing is published), built against the project installed into a temporary
# prefix with PKG_CONFIG_PATH alone (#cgo pkg-config: kindmps; no CGO_CFLAGS, no -I or -L of
# ours), checked to load the installed library, and run. No network: GOPROXY=off, no third-party
# module.
# usage: go_install.sh BUILD_DIR SOURCE_DIR   (env: KMPS_EXPECTED_VERSION, GOCACHE)
set -euo pipefail
build=$1 src=$2
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
kmps_install "$build" go-install
module=$(awk '$1 == "module" {print $2}' "$src/bindings/go/go.mod")

mkdir "$tmp/consumer"
cd "$tmp/consumer"
cat >go.mod <<MOD
module example.com/kindmps-consumer

go 1.19

require $module v0.0.0

replace $module => $src/bindings/go
MOD
cat >main.go <<GO
package main

import (
	"errors"
	"fmt"
	"os"

	kindmps "$module"
)

func main() {
	v := kindmps.Version()
	if want := os.Getenv("KMPS_EXPECTED_VERSION"); want != "" && v != want {
		fmt.Printf("version %q, want %q\n", v, want)
		os.Exit(1)
	}
	inv, err := kindmps.HostInspect("/nonexistent-kmps-go-install", "/nonexistent-kmps-go-install")
	if !errors.Is(err, kindmps.ErrEnvironment) || inv["complete"] != false {
		fmt.Printf("HostInspect: %v, %v\n", inv, err)
		os.Exit(1)
	}
	fmt.Println("kindmps", v)
}
GO
export CGO_ENABLED=1 GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GO111MODULE=on GOPATH=$tmp/gopath
export GOCACHE=${GOCACHE:-$tmp/gocache}
unset CGO_CFLAGS CGO_CPPFLAGS LD_LIBRARY_PATH
# The run-time path of a temporary prefix is the consumer's business (the loader knows /usr and
# /usr/local): an rpath, as a C consumer would set. In CGO_LDFLAGS it also keys Go's build cache to
# this prefix: the cache does not hash pkg-config's output, so the binding compiled against
# another tree (go_bindings' build tree, an earlier run's prefix) would be reused, flags and all.
export CGO_LDFLAGS="-Wl,-rpath,$libdir"
PKG_CONFIG_PATH=$pcdir go build -o consumer .
kmps_loads_installed ./consumer
./consumer
echo "go install ok: $module against $prefix"
