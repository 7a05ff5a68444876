#include "common/number.h"

#include <limits>

#include <gtest/gtest.h>

namespace kmps {
namespace {

TEST(ParseCount, TakesDigitsUpToTheBound) {
  EXPECT_EQ(ParseCount("0", 10), 0u);
  EXPECT_EQ(ParseCount("007", 10), 7u);
  EXPECT_EQ(ParseCount("10", 10), 10u);
  EXPECT_EQ(ParseCount("18446744073709551615", std::numeric_limits<uint64_t>::max()),
            std::numeric_limits<uint64_t>::max());
}

TEST(ParseCount, RefusesSignsBlanksOverflowAndOtherNotations) {
  for (const char* bad : {"", "11", "+1", "-0", "-1", " 1", "1 ", "1.0", "1e3", "0x10", "nan", "inf", "٣"}) {
    EXPECT_FALSE(ParseCount(bad, 10).has_value()) << bad;
  }
  EXPECT_FALSE(ParseCount("18446744073709551616", std::numeric_limits<uint64_t>::max()).has_value());
  EXPECT_FALSE(ParseCount("99999999999999999999999999", std::numeric_limits<uint64_t>::max()).has_value());
}

TEST(ParseDecimal, TakesDigitsWithAnOptionalFraction) {
  EXPECT_DOUBLE_EQ(*ParseDecimal("50", 100), 50);
  EXPECT_DOUBLE_EQ(*ParseDecimal("12.5", 100), 12.5);
  EXPECT_DOUBLE_EQ(*ParseDecimal(".5", 100), 0.5);
  EXPECT_DOUBLE_EQ(*ParseDecimal("5.", 100), 5);
  EXPECT_DOUBLE_EQ(*ParseDecimal("100", 100), 100);
}

TEST(ParseDecimal, RefusesNanInfinitiesSignsExponentsAndTheOutOfBound) {
  for (const char* bad : {"", ".", "nan", "NaN", "inf", "-inf", "infinity", "+5", "-0", "-0.0", "1e2", "1E-2",
                          "0x1p3", "1..2", "1.2.3", " 5", "5 ", "100.0001", "1000000000000000000000000000000"}) {
    EXPECT_FALSE(ParseDecimal(bad, 100).has_value()) << bad;
  }
}

TEST(ParseSeconds, IsAPositiveBoundedDecimal) {
  EXPECT_DOUBLE_EQ(*ParseSeconds("0.25", 60), 0.25);
  EXPECT_DOUBLE_EQ(*ParseSeconds("60", 60), 60);
  for (const char* bad : {"0", "0.0", "60.5", "-1", "nan", "inf", "1e1"}) {
    EXPECT_FALSE(ParseSeconds(bad, 60).has_value()) << bad;
  }
}

}  // namespace
}  // namespace kmps
