#include "common/text.h"

#include <gtest/gtest.h>

#include <vector>

namespace kmps {
namespace {

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  ForEachLine(text, [&](std::string_view line) { out.emplace_back(line); });
  return out;
}

TEST(ForEachLine, SplitsOnNewlinesAndKeepsAnUnterminatedLastLine) {
  EXPECT_TRUE(Lines("").empty());
  EXPECT_EQ(Lines("a\n"), std::vector<std::string>{"a"});
  EXPECT_EQ(Lines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
}

TEST(TextHelpers, TrimAndOneLine) {
  EXPECT_EQ(Trim(" \t 452\r\n"), "452");
  EXPECT_EQ(OneLine("exec failed:\nno such file\n\n"), "exec failed: no such file");
}

}  // namespace
}  // namespace kmps
