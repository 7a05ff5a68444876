#include "kind/ld_cache.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

void Put32(std::string& b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }
void Put64(std::string& b, size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); }

struct E {
  int32_t flags;
  std::string key, value;
};

// A new-format cache, laid out as glibc's ldconfig writes it.
std::string NewCache(const std::vector<E>& entries) {
  std::string b(48 + 24 * entries.size(), '\0');
  std::memcpy(&b[0], "glibc-ld.so.cache1.1", 20);
  Put32(b, 20, static_cast<uint32_t>(entries.size()));
  b[28] = 2;  // little-endian
  size_t strings_start = b.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    size_t at = 48 + 24 * i;
    Put32(b, at, static_cast<uint32_t>(entries[i].flags));
    Put32(b, at + 4, static_cast<uint32_t>(b.size()));
    b += entries[i].key + '\0';
    Put32(b, at + 8, static_cast<uint32_t>(b.size()));
    b += entries[i].value + '\0';
    Put64(b, at + 16, 0);
  }
  Put32(b, 24, static_cast<uint32_t>(b.size() - strings_start));
  return b;
}

// An old-format cache: strings relative to the end of its entry table.
std::string OldCache(const std::vector<E>& entries) {
  std::string b(16 + 12 * entries.size(), '\0');
  std::memcpy(&b[0], "ld.so-1.7.0", 11);
  Put32(b, 12, static_cast<uint32_t>(entries.size()));
  std::string strings;
  for (size_t i = 0; i < entries.size(); ++i) {
    size_t at = 16 + 12 * i;
    Put32(b, at, static_cast<uint32_t>(entries[i].flags));
    Put32(b, at + 4, static_cast<uint32_t>(strings.size()));
    strings += entries[i].key + '\0';
    Put32(b, at + 8, static_cast<uint32_t>(strings.size()));
    strings += entries[i].value + '\0';
  }
  return b + strings;
}

TEST(LdCache, NewFormat) {
  auto parsed = ParseLdCache(NewCache({{0x0303, "libcuda.so.1", "/usr/lib/libcuda.so.1"},
                                       {0x0003, "libcuda.so.1", "/usr/lib32/libcuda.so.1"}}),
                             "c");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].path, "/usr/lib/libcuda.so.1");
  auto x64 = LookupX8664(*parsed, "libcuda.so.1");
  ASSERT_EQ(x64.size(), 1u);  // the 32-bit entry is not for this loader
  EXPECT_EQ(x64[0].path, "/usr/lib/libcuda.so.1");
  EXPECT_TRUE(LookupX8664(*parsed, "libnvidia-ml.so.1").empty());
}

TEST(LdCache, OldFormatAlone) {
  auto parsed = ParseLdCache(OldCache({{0x0303, "libnvidia-ml.so.1", "/lib64/libnvidia-ml.so.1"}}), "c");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].soname, "libnvidia-ml.so.1");
  EXPECT_EQ((*parsed)[0].path, "/lib64/libnvidia-ml.so.1");
}

TEST(LdCache, OldFormatFollowedByNewPrefersNew) {
  std::string old = OldCache({{0x0303, "libcuda.so.1", "/old/libcuda.so.1"}});
  // The old cache's strings sit after the table; the new header starts 8-aligned after the table.
  std::string table_only = old.substr(0, 16 + 12);
  table_only.resize((table_only.size() + 7) & ~size_t{7}, '\0');
  auto parsed = ParseLdCache(table_only + NewCache({{0x0303, "libcuda.so.1", "/new/libcuda.so.1"}}), "c");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].path, "/new/libcuda.so.1");
}

TEST(LdCache, CorruptCachesAreErrorsNotCrashes) {
  std::string good = NewCache({{0x0303, "libcuda.so.1", "/usr/lib/libcuda.so.1"}});
  EXPECT_FALSE(ParseLdCache("", "c").ok());
  EXPECT_FALSE(ParseLdCache("not a cache at all", "c").ok());
  EXPECT_FALSE(ParseLdCache(good.substr(0, 40), "c").ok());     // truncated header
  EXPECT_FALSE(ParseLdCache(good.substr(0, 60), "c").ok());     // truncated entries
  std::string bad_offset = good;
  Put32(bad_offset, 48 + 4, 100000);
  auto r = ParseLdCache(bad_offset, "/x/ld.so.cache");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol);
  EXPECT_NE(r.status().message().find("/x/ld.so.cache"), std::string::npos);
  std::string unterminated = good.substr(0, good.size() - 1);
  EXPECT_FALSE(ParseLdCache(unterminated, "c").ok());
  std::string huge = good;
  Put32(huge, 20, 0xffffffffu);
  EXPECT_FALSE(ParseLdCache(huge, "c").ok());
  std::string old = OldCache({{0x0303, "a", "/a"}});
  Put32(old, 12, 0x7fffffffu);
  EXPECT_FALSE(ParseLdCache(old, "c").ok());
}

// No string longer than a path is copied: entries that all point at one long string would
// otherwise cost entries x length (a corrupt 1 MiB cache, tens of GB).
TEST(LdCache, StringsLongerThanAPathAreErrors) {
  std::string path(4096, 'p');
  ASSERT_TRUE(ParseLdCache(NewCache({{0x0303, "libcuda.so.1", path}}), "c").ok());
  auto r = ParseLdCache(NewCache({{0x0303, "libcuda.so.1", path + "p"}}), "/x/ld.so.cache");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol);
  EXPECT_NE(r.status().message().find("longer than 4096 bytes"), std::string::npos) << r.status().message();
}

TEST(LdCache, ReadsWhatLdconfigWrites) {
  testing::TempDir dir("kmps-ldcache");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.AddLibrary("/usr/local/nvidia/lib64", "libcuda.so.1", "libcuda.so.580.159.04").ok());
  ASSERT_TRUE(h.WriteFile("/etc/ld.so.conf", "/usr/local/nvidia/lib64\n").ok());
  Status s = h.RunLdconfig();
  ASSERT_TRUE(s.ok()) << s.message();
  std::ifstream in(h.Path("/etc/ld.so.cache"), std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto parsed = ParseLdCache(bytes.str(), "ld.so.cache");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto hits = LookupX8664(*parsed, "libcuda.so.1");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].path, "/usr/local/nvidia/lib64/libcuda.so.1");  // inside the root
}

}  // namespace
}  // namespace kmps::kind
