// What the libFuzzer targets of tests/fuzz share (docs/fuzzing.md).
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace kmps::fuzz {

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A directory of this process's own under $TMPDIR (or /tmp), made on first use and removed when
// the fuzzer exits normally.
// Never destroyed: the exit handler that removes it runs after static destructors would.
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    auto* d = new std::string((std::filesystem::temp_directory_path() / "kmps-fuzz-XXXXXX").string());
    if (mkdtemp(d->data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return d;
  }();
  return *dir;
}

}  // namespace kmps::fuzz

// An invariant the parser promises: a failure is a crash the fuzzer reports and keeps.
#define KMPS_FUZZ_CHECK(cond)                                                          \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
