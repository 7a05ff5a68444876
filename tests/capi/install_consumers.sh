#!/bin/bash
# Installs the build tree into a temporary prefix, then builds tests/capi/capi_test.c as two
# consumers of the INSTALLED library, one through pkg-config and one through
# find_package(kindmps), and runs both.
# usage: install_consumers.sh BUILD_DIR TEST_SOURCE_DIR [EXTRA_FLAGS]
set -euo pipefail
build=$1 src=$2 extra=${3:-}
# shellcheck source=../install/common.sh
. "$(dirname "$0")/../install/common.sh"
kmps_install "$build" capi-install
for f in "$prefix/include/kindmps.h" "$libdir/libkindmps.so" "$libdir/libkindmps.so.0" \
         "$libdir/cmake/kindmps/kindmpsConfig.cmake" "$libdir/cmake/kindmps/kindmpsConfigVersion.cmake"; do
  [ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done

# 1. pkg-config
export PKG_CONFIG_PATH=$libdir/pkgconfig
echo "pkg-config: kindmps $(pkg-config --modversion kindmps): $(pkg-config --cflags --libs kindmps)"
[ "$(pkg-config --modversion kindmps)" = "${KMPS_EXPECTED_VERSION:-$(pkg-config --modversion kindmps)}" ]
# shellcheck disable=SC2046
gcc -std=c99 -Wall -Wextra -Werror -pedantic $extra "$src/capi_test.c" -o "$tmp/consumer_pc" \
  $(pkg-config --cflags --libs kindmps) -Wl,-rpath,"$(pkg-config --variable=libdir kindmps)" -pthread
# It must load the installed library, not the build tree's.
kmps_loads_installed "$tmp/consumer_pc"
"$tmp/consumer_pc"

# 2. find_package(kindmps)
mkdir -p "$tmp/cmake-consumer"
cp "$src/capi_test.c" "$tmp/cmake-consumer/"
cat >"$tmp/cmake-consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(kindmps_consumer C)
find_package(Threads REQUIRED)
find_package(kindmps 0.1 REQUIRED)
add_executable(consumer_cmake capi_test.c)
set_target_properties(consumer_cmake PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(consumer_cmake PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(consumer_cmake PRIVATE kindmps::kindmps Threads::Threads)
CMAKE
cmake -S "$tmp/cmake-consumer" -B "$tmp/cmake-consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" >/dev/null
cmake --build "$tmp/cmake-consumer/build" >/dev/null
kmps_loads_installed "$tmp/cmake-consumer/build/consumer_cmake"
"$tmp/cmake-consumer/build/consumer_cmake"
echo "install consumers ok"
