#include "docker_api/url_query.h"

#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>

namespace kmps::docker {
namespace {

TEST(UrlQuery, PercentEncode) {
  EXPECT_EQ(PercentEncode("aux"), "aux");
  EXPECT_EQ(PercentEncode("-eo pid,ppid,args"), "-eo%20pid%2Cppid%2Cargs");
  EXPECT_EQ(PercentEncode("{\"a\":[\"b=c\"]}"), "%7B%22a%22%3A%5B%22b%3Dc%22%5D%7D");
  EXPECT_EQ(PercentEncode("a/b?c&d"), "a%2Fb%3Fc%26d");
}

// RFC 3986: only A-Z a-z 0-9 - . _ ~ stay; every other byte (NUL, %, +, bytes past 0x7F) is %XX
// in upper case, also across curl_easy_escape's pieces and for the empty string.
TEST(UrlQuery, PercentEncodeEveryByte) {
  EXPECT_EQ(PercentEncode(""), "");
  EXPECT_EQ(PercentEncode(std::string_view("a\0b", 3)), "a%00b");
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("% +*'!\xff\x80"), "%25%20%2B%2A%27%21%FF%80");
  std::string all, want;
  for (int round = 0; round < 300; ++round) {  // 76800 bytes: more than one piece of 64 KiB
    for (int b = 0; b < 256; ++b) {
      char c = static_cast<char>(b);
      all.push_back(c);
      bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
      want += keep ? std::string(1, c) : fmt::format("%{:02X}", b);
    }
  }
  EXPECT_EQ(PercentEncode(all), want);
}

TEST(UrlQuery, NameFilterIsAnchoredAndEscaped) {
  EXPECT_EQ(ContainerFilters({}, "kind.worker"), R"({"name":["^/?kind\\.worker$"]})");
  EXPECT_EQ(ContainerFilters({"io.x-k8s.kind.cluster=x"}, ""), R"({"label":["io.x-k8s.kind.cluster=x"]})");
  EXPECT_EQ(ContainerFilters({}, ""), "");
  EXPECT_EQ(RegexEscape("a+b(c)"), "a\\+b\\(c\\)");
}

}  // namespace
}  // namespace kmps::docker
