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

TEST(TerminalSafe, PrintableUtf8AndTabsStayControlsAndBadBytesAreEscaped) {
  EXPECT_EQ(TerminalSafe("plain \t text, \\ kept"), "plain \t text, \\ kept");
  EXPECT_EQ(TerminalSafe(" \u2713 Preparing nodes \U0001F4E6"), " \u2713 Preparing nodes \U0001F4E6");
  EXPECT_EQ(TerminalSafe("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");  // ANSI colour
  EXPECT_EQ(TerminalSafe("a\rb\nc\x7f\x01"), "a\\x0db\\x0ac\\x7f\\x01");
  EXPECT_EQ(TerminalSafe("\xc2\x9b" "2J"), "\\xc2\\x9b2J");      // C1 CSI
  EXPECT_EQ(TerminalSafe("\xc2\xa0"), "\xc2\xa0");               // U+00A0 is no control
  EXPECT_EQ(TerminalSafe("\xff\xfe ok"), "\\xff\\xfe ok");
  EXPECT_EQ(TerminalSafe("\xc0\xaf"), "\\xc0\\xaf");              // overlong '/'
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");     // a surrogate
  EXPECT_EQ(TerminalSafe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(TerminalSafe("cut \xe2\x9c"), "cut \\xe2\\x9c");     // a character cut short
  EXPECT_EQ(TerminalSafe(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(TerminalSafe(""), "");
  std::string once = TerminalSafe("\x1b\xff\n");
  EXPECT_EQ(TerminalSafe(once), once);  // what it makes is safe as it is
}

TEST(Utf8, SequencesAndACutCharacterAtTheEnd) {
  EXPECT_EQ(Utf8SequenceAt("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceAt("\u00e9", 0), 2u);
  EXPECT_EQ(Utf8SequenceAt("\u2713", 0), 3u);
  EXPECT_EQ(Utf8SequenceAt("\U0001F4E6", 0), 4u);
  EXPECT_EQ(Utf8SequenceAt("\U0001F4E6", 1), 0u);  // a continuation byte
  EXPECT_EQ(Utf8SequenceAt("a", 1), 0u);            // past the end
  EXPECT_EQ(Utf8CompleteLength("ab"), 2u);
  EXPECT_EQ(Utf8CompleteLength("a\u2713"), 4u);
  EXPECT_EQ(Utf8CompleteLength(std::string_view("a\u2713", 3)), 1u);
  EXPECT_EQ(Utf8CompleteLength(std::string_view("a\U0001F4E6", 4)), 1u);
  EXPECT_EQ(Utf8CompleteLength(std::string_view("a\U0001F4E6", 2)), 1u);
  EXPECT_EQ(Utf8CompleteLength(""), 0u);
}

}  // namespace
}  // namespace kmps
