#include "docker_api/frame_demuxer.h"

#include <string>

#include <gtest/gtest.h>

namespace kmps::docker {
namespace {

std::string Frame(unsigned char stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + std::string(payload);
}

// The stream as seen on the wire for `sh -c 'echo out; echo err >&2; exit 3'`, plus an empty frame,
// a system-error frame and a frame longer than 255 bytes (length uses two bytes).
std::string Sample() {
  return Frame(1, "out\n") + Frame(2, "err\n") + Frame(1, "") + Frame(3, "oci: boom\n") +
         Frame(1, std::string(300, 'x')) + Frame(0, "in");
}

TEST(FrameDemuxer, SplitsStreams) {
  CaptureSink sink;
  FrameDemuxer d(sink);
  ASSERT_TRUE(d.Feed(Sample()).ok());
  ASSERT_TRUE(d.Finish().ok());
  EXPECT_EQ(sink.out, "out\n" + std::string(300, 'x') + "in");
  EXPECT_EQ(sink.err, "err\noci: boom\n");
  EXPECT_EQ(d.payload_bytes(), 4u + 4u + 10u + 300u + 2u);
}

TEST(FrameDemuxer, SameResultWhateverTheSplitPoints) {
  const std::string s = Sample();
  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); j += 7) {  // two split points: every byte, and a second cut
      CaptureSink sink;
      FrameDemuxer d(sink);
      ASSERT_TRUE(d.Feed(std::string_view(s).substr(0, i)).ok());
      ASSERT_TRUE(d.Feed(std::string_view(s).substr(i, j - i)).ok());
      ASSERT_TRUE(d.Feed(std::string_view(s).substr(j)).ok());
      ASSERT_TRUE(d.Finish().ok()) << "split at " << i << "," << j;
      EXPECT_EQ(sink.out, "out\n" + std::string(300, 'x') + "in") << i << "," << j;
      EXPECT_EQ(sink.err, "err\noci: boom\n") << i << "," << j;
      EXPECT_LE(d.max_buffered(), FrameDemuxer::kHeaderSize);
    }
  }
}

TEST(FrameDemuxer, ByteAtATime) {
  const std::string s = Sample();
  CaptureSink sink;
  FrameDemuxer d(sink);
  for (char c : s) ASSERT_TRUE(d.Feed(std::string_view(&c, 1)).ok());
  ASSERT_TRUE(d.Finish().ok());
  EXPECT_EQ(sink.err, "err\noci: boom\n");
}

TEST(FrameDemuxer, ClosedInsideAFrameIsProtocolError) {
  const std::string s = Frame(1, "hello") + Frame(2, "world");
  for (size_t cut = 1; cut < s.size(); ++cut) {
    if (cut == 13) continue;  // exactly between the two frames: a clean end
    CaptureSink sink;
    FrameDemuxer d(sink);
    ASSERT_TRUE(d.Feed(std::string_view(s).substr(0, cut)).ok());
    Status st = d.Finish();
    EXPECT_EQ(st.code(), Code::kProtocol) << "cut at " << cut;
  }
}

TEST(FrameDemuxer, BadHeaderIsProtocolError) {
  CaptureSink sink;
  FrameDemuxer d(sink);
  Status st = d.Feed("hello world, this is not framed\n");  // what a Tty=true stream looks like
  EXPECT_EQ(st.code(), Code::kProtocol);
  EXPECT_NE(st.message().find("frame header"), std::string::npos) << st.message();
  EXPECT_EQ(d.Feed(Frame(1, "ok")).code(), Code::kProtocol);  // the error sticks
  EXPECT_TRUE(sink.out.empty());
}

TEST(FrameDemuxer, LargePayloadIsPassedThroughNotBuffered) {
  struct Counter : OutputSink {
    size_t out = 0, calls = 0;
    void OnStdout(std::string_view d) override { out += d.size(); ++calls; }
    void OnStderr(std::string_view) override {}
  } sink;
  FrameDemuxer d(sink);
  std::string header = Frame(1, "").substr(0, 4) + std::string("\x01\x00\x00\x00", 4);  // 16 MiB frame
  ASSERT_TRUE(d.Feed(header).ok());
  std::string chunk(64 * 1024, 'z');
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(d.Feed(chunk).ok());
  ASSERT_TRUE(d.Finish().ok());
  EXPECT_EQ(sink.out, 16u << 20);
  EXPECT_EQ(sink.calls, 256u);  // one sink call per piece: nothing accumulated
  EXPECT_LE(d.max_buffered(), FrameDemuxer::kHeaderSize);
}

}  // namespace
}  // namespace kmps::docker
