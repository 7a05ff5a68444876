#include "pod/mps_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::pod {
namespace {

using ::testing::HasSubstr;

TEST(PodMpsLimits, ThreadPercentageIsAnIntegerFrom1To100) {
  EXPECT_EQ(*ParseThreadPercentage("1"), "1");
  EXPECT_EQ(*ParseThreadPercentage("100"), "100");
  EXPECT_EQ(*ParseThreadPercentage("050"), "50");
  for (const char* bad : {"", "0", "101", "-5", "+5", "50.5", "nan", "NaN", "inf", " 50", "50 ", "5e1",
                          "99999999999999999999999", "50%"}) {
    auto r = ParseThreadPercentage(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("--threads \"" + std::string(bad) + "\": expected an integer from 1 to 100"));
  }
}

TEST(PodMpsLimits, PinnedMemoryIsNormalisedToNvidiasFormat) {
  EXPECT_EQ(*ParsePinnedMemLimit("1G"), "0=1G");
  EXPECT_EQ(*ParsePinnedMemLimit("1g"), "0=1G");
  EXPECT_EQ(*ParsePinnedMemLimit("0=1G,1=512m"), "0=1G,1=512M");
  EXPECT_EQ(*ParsePinnedMemLimit("2G,1=512M"), "0=2G,1=512M");
  EXPECT_EQ(*ParsePinnedMemLimit("007=0010k"), "7=10K");
  EXPECT_EQ(*ParsePinnedMemLimit("1048576"), "0=1048576");
  EXPECT_EQ(*ParsePinnedMemLimit("17179869183G"), "0=17179869183G");  // 2^64 - 1G bytes
}

TEST(PodMpsLimits, PinnedMemoryRefusesWhatMpsWouldMisread) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : std::vector<Case>{
           {"", "--pinned-mem is empty"},
           {"0=1G,", "an empty part"},
           {",1G", "an empty part"},
           {"0=1G,,1=1G", "an empty part"},
           {"-1=1G", "device \"-1\" is not a device index"},
           {"+1=1G", "device \"+1\" is not a device index"},
           {"=1G", "device \"\" is not a device index"},
           {"a=1G", "device \"a\" is not a device index"},
           {"99999999999=1G", "device \"99999999999\" is not a device index"},
           {"0=1G,0=2G", "device 0 is given twice"},
           {"1G,0=2G", "device 0 is given twice"},
           {"0=", "size \"\" is empty"},
           {"0=G", "size \"G\" is not a number"},
           {"0=-1G", "is not a number"},
           {"0=+1G", "is not a number"},
           {"0=1.5G", "is not a number"},
           {"0=nan", "is not a number"},
           {"0=1 G", "is not a number"},
           {"0=1GB", "is not a number"},
           {"0=1Gi", "is not a number"},
           {"0=0", "is zero"},
           {"0=0M", "is zero"},
           {"0=17179869184G", "is too large"},
           {"0=99999999999999999999999", "is too large"},
       }) {
    auto r = ParsePinnedMemLimit(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(c.why)) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr("--pinned-mem")) << c.text;
  }
}

}  // namespace
}  // namespace kmps::pod
