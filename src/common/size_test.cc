#include "common/size.h"

#include <gtest/gtest.h>

namespace kmps {
namespace {

TEST(ParseSize, Units) {
  for (const char* good : {"8g", "8G", "8gb", "512m", "64Mi", "64MiB", "1k", "1073741824", "100b"}) {
    ASSERT_TRUE(ParseSize(good).ok()) << good;
  }
  EXPECT_EQ(*ParseSize("8g"), 8ull << 30);
  EXPECT_EQ(*ParseSize("8G"), 8ull << 30);
  EXPECT_EQ(*ParseSize("8gb"), 8ull << 30);
  EXPECT_EQ(*ParseSize("512m"), 512ull << 20);
  EXPECT_EQ(*ParseSize("64Mi"), 64ull << 20);
  EXPECT_EQ(*ParseSize("64MiB"), 64ull << 20);
  EXPECT_EQ(*ParseSize("1k"), 1024u);
  EXPECT_EQ(*ParseSize("1073741824"), 1073741824u);
  EXPECT_EQ(*ParseSize("100b"), 100u);
  for (const char* bad : {"", "0", "0g", "-1g", "1.5g", "8 g", "g", "8x", "99999999999999999999",
                          "17179869184t", "8i"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace kmps
