#include "docker_api/url_query.h"

#include <gtest/gtest.h>

namespace kmps::docker {
namespace {

TEST(UrlQuery, PercentEncode) {
  EXPECT_EQ(PercentEncode("aux"), "aux");
  EXPECT_EQ(PercentEncode("-eo pid,ppid,args"), "-eo%20pid%2Cppid%2Cargs");
  EXPECT_EQ(PercentEncode("{\"a\":[\"b=c\"]}"), "%7B%22a%22%3A%5B%22b%3Dc%22%5D%7D");
  EXPECT_EQ(PercentEncode("a/b?c&d"), "a%2Fb%3Fc%26d");
}

TEST(UrlQuery, NameFilterIsAnchoredAndEscaped) {
  EXPECT_EQ(ContainerFilters({}, "kind.worker"), R"({"name":["^/?kind\\.worker$"]})");
  EXPECT_EQ(ContainerFilters({"io.x-k8s.kind.cluster=x"}, ""), R"({"label":["io.x-k8s.kind.cluster=x"]})");
  EXPECT_EQ(ContainerFilters({}, ""), "");
  EXPECT_EQ(RegexEscape("a+b(c)"), "a\\+b\\(c\\)");
}

}  // namespace
}  // namespace kmps::docker
