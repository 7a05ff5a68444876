// glibc's ld.so.cache (kind/ld_cache.h): the host's or a node image's /etc/ld.so.cache, any bytes.
#include "fuzz_support.h"
#include "kind/ld_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = kmps::fuzz::Bytes(data, size);
  auto entries = kmps::kind::ParseLdCache(bytes, "/etc/ld.so.cache");
  if (!entries.ok()) {
    KMPS_FUZZ_CHECK(entries.status().code() == kmps::Code::kProtocol);
    return 0;
  }
  for (const auto& e : *entries) {
    // Every string is a NUL-terminated piece of the file.
    KMPS_FUZZ_CHECK(e.soname.size() < size && e.path.size() < size);
    KMPS_FUZZ_CHECK(e.soname.size() <= 4096 && e.path.size() <= 4096);  // no more than a path each
    KMPS_FUZZ_CHECK(bytes.find(e.soname) != std::string_view::npos);
  }
  auto hits = kmps::kind::LookupX8664(*entries, "libcuda.so.1");
  KMPS_FUZZ_CHECK(hits.size() <= entries->size());
  return 0;
}
