// glibc's ld.so.cache, parsed by hand (no library reads it): the new format
// ("glibc-ld.so.cache1.1", glibc >= 2.32 writes only this one) and the old "ld.so-1.7.0" format,
// alone or followed by the new one. Every offset is bounds-checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kmps::kind {

// Entry flags (glibc's ldconfig.h): FLAG_ELF_LIBC6 | FLAG_X8664_LIB64.
inline constexpr int32_t kLdCacheFlagsX8664Libc6 = 0x0303;

struct LdCacheEntry {
  int32_t flags = 0;
  std::string soname;  // the key, e.g. libcuda.so.1
  std::string path;    // the value: an absolute path inside the root the cache belongs to
  uint64_t hwcap = 0;  // new format only
};

// Parses a whole cache file's bytes. kProtocol naming `name` for a truncated or corrupt cache.
// Uses the new format when present (as the loader does), else the old one.
StatusOr<std::vector<LdCacheEntry>> ParseLdCache(std::string_view bytes, const std::string& name);

// The entries for `soname` that the x86-64 loader would use, in cache order.
std::vector<LdCacheEntry> LookupX8664(const std::vector<LdCacheEntry>& entries,
                                      const std::string& soname);

}  // namespace kmps::kind
