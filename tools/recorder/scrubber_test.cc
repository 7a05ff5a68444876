#include "recorder/scrubber.h"

#include <gtest/gtest.h>

namespace kmps::testing {
namespace {

const std::string kIdA(64, 'a');
const std::string kIdB = "f8fbf801cc8a1b4da19b6ac7bae0cdbcddbc655745bdb5ef5219b6529fcdd84e";

TEST(ScrubberTest, ReplacesIdsConsistentlyInOrderOfFirstSight) {
  Scrubber s;
  EXPECT_EQ(s.Scrub("/exec/" + kIdB + "/start"), "/exec/" + Scrubber::FakeId(1) + "/start");
  EXPECT_EQ(s.Scrub("{\"Id\":\"" + kIdA + "\",\"Other\":\"" + kIdB + "\"}"),
            "{\"Id\":\"" + Scrubber::FakeId(2) + "\",\"Other\":\"" + Scrubber::FakeId(1) + "\"}");
  EXPECT_EQ(s.ids_seen(), 2u);
  EXPECT_EQ(Scrubber::FakeId(1), "000000000001" + std::string(52, '0'));
}

TEST(ScrubberTest, ShortIdsFollowTheirFullIdAndOtherHexIsKept) {
  Scrubber s;
  s.Scrub(kIdB);
  EXPECT_EQ(s.Scrub("\"Hostname\":\"f8fbf801cc8a\""), "\"Hostname\":\"000000000001\"");
  // 12 hex digits that are no known ID's prefix, a 63-digit run and a 65-digit run stay.
  EXPECT_EQ(s.Scrub("abcdef012345"), "abcdef012345");
  EXPECT_EQ(s.Scrub(std::string(63, 'b')), std::string(63, 'b'));
  EXPECT_EQ(s.Scrub(std::string(65, 'c')), std::string(65, 'c'));
  // Part of a longer word is not an ID.
  EXPECT_EQ(s.Scrub("x" + kIdA), "x" + kIdA);
}

TEST(ScrubberTest, FixesDateHeaderOnlyInTheHeadAndKeepsLength) {
  Scrubber s;
  std::string raw =
      "HTTP/1.1 200 OK\r\nDate: Thu, 26 Nov 2026 14:09:46 GMT\r\nContent-Length: 38\r\n\r\n"
      "Date: Thu, 26 Nov 2026 14:09:46 GMT\r\n\r\n";
  std::string out = s.ScrubResponse(raw);
  EXPECT_EQ(out.size(), raw.size());
  EXPECT_NE(out.find("\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\nDate: Thu, 26 Nov 2026 14:09:46 GMT"), std::string::npos);
}

TEST(ScrubberTest, ReplacementsMustKeepLength) {
  Scrubber s;
  EXPECT_FALSE(s.AddReplacement("abc", "ab").ok());
  EXPECT_FALSE(s.AddReplacement("", "").ok());
  ASSERT_TRUE(s.AddReplacement("kmpsrec-1a2b3c4d", "kmpsrec-node0000").ok());
  EXPECT_EQ(s.Scrub("/containers/kmpsrec-1a2b3c4d/json"), "/containers/kmpsrec-node0000/json");
}

}  // namespace
}  // namespace kmps::testing
