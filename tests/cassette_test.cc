#include "support/cassette.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/http_framing.h"

namespace kmps::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// Splits a Docker multiplexed stream into (stream, payload) frames; fails on a partial frame.
std::vector<std::pair<int, std::string>> Demux(std::string_view body) {
  std::vector<std::pair<int, std::string>> frames;
  while (!body.empty()) {
    EXPECT_GE(body.size(), 8u) << "partial frame header";
    if (body.size() < 8) break;
    std::size_t len = (static_cast<unsigned char>(body[4]) << 24) | (static_cast<unsigned char>(body[5]) << 16) |
                      (static_cast<unsigned char>(body[6]) << 8) | static_cast<unsigned char>(body[7]);
    EXPECT_GE(body.size(), 8 + len) << "partial frame";
    frames.emplace_back(body[0], std::string(body.substr(8, len)));
    body.remove_prefix(std::min(body.size(), 8 + len));
  }
  return frames;
}

std::string BodyOf(const Interaction& it) {
  Framing f = FrameResponse(it.response_raw, it.method, /*eof=*/true);
  return DecodedBody(it.response_raw, f).value_or("<undecodable>");
}

TEST(Base64Test, RoundTripsAllLengthsAndRejectsGarbage) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes += static_cast<char>(i * 7);
    auto back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, bytes);
  }
  EXPECT_EQ(Base64Encode("out\n"), "b3V0Cg==");
  EXPECT_FALSE(Base64Decode("b3V0Cg=").has_value());
  EXPECT_FALSE(Base64Decode("b3V*Cg==").has_value());
}

TEST(HttpFramingTest, FramesContentLengthChunkedAndCloseDelimited) {
  std::string cl = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1";
  Framing f = FrameResponse(cl, "GET", false);
  ASSERT_EQ(f.state, FrameState::kComplete);
  EXPECT_EQ(f.total_len, cl.size() - 8);
  EXPECT_FALSE(ResponseClosesConnection(f));

  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(FrameResponse(chunked.substr(0, chunked.size() - 2), "GET", false).state, FrameState::kNeedMore);
  f = FrameResponse(chunked, "GET", false);
  ASSERT_EQ(f.state, FrameState::kComplete);
  EXPECT_EQ(DecodedBody(chunked, f), "abc");

  std::string stream = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n\x01";
  EXPECT_EQ(FrameResponse(stream, "POST", false).state, FrameState::kNeedMore);
  f = FrameResponse(stream, "POST", true);
  ASSERT_EQ(f.state, FrameState::kComplete);
  EXPECT_TRUE(f.close_delimited);
  EXPECT_TRUE(ResponseClosesConnection(f));

  EXPECT_EQ(FrameResponse("HTTP/1.1 204 No Content\r\n\r\n", "DELETE", false).state, FrameState::kComplete);
  EXPECT_EQ(FrameResponse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", "GET", true).state, FrameState::kError);
  EXPECT_EQ(FrameResponse("garbage\r\n\r\n", "GET", false).state, FrameState::kError);
}

TEST(HttpFramingTest, FramesRequestsWithAndWithoutBodies) {
  std::string two = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1.41/exec/1/start HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\n{}";
  Framing f = FrameRequest(two);
  ASSERT_EQ(f.state, FrameState::kComplete);
  EXPECT_EQ(f.head.method, "GET");
  EXPECT_EQ(f.head.target, "/_ping");
  Framing g = FrameRequest(std::string_view(two).substr(f.total_len));
  ASSERT_EQ(g.state, FrameState::kComplete);
  EXPECT_EQ(g.head.method, "POST");
  EXPECT_EQ(DecodedBody(std::string_view(two).substr(f.total_len), g), "{}");
  EXPECT_EQ(FrameRequest("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n").state, FrameState::kNeedMore);
}

TEST(CassetteTest, SerializeThenParseKeepsEveryField) {
  Cassette c;
  c.description = "unit";
  Interaction it;
  it.label = "bin";
  it.method = "POST";
  it.path = "/v1.41/images/create?fromSrc=-";
  it.request_body = std::string("\x00\xff", 2);
  it.request_body_omitted_bytes = 7;
  it.response_raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  it.status = 200;
  it.elapsed_ms = 1.5;
  c.interactions.push_back(it);
  std::string text = SerializeCassette(c);
  EXPECT_NE(text.find("\"response_preview\""), std::string::npos);
  auto back = ParseCassette(text, "mem");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->interactions.size(), 1u);
  const Interaction& b = back->interactions[0];
  EXPECT_EQ(b.request_body, it.request_body);
  EXPECT_EQ(b.request_body_omitted_bytes, 7u);
  EXPECT_EQ(b.response_raw, it.response_raw);
  EXPECT_EQ(b.elapsed_ms, 1.5);
  EXPECT_EQ(back->description, "unit");
}

TEST(CassetteTest, RejectsIncompleteResponseAndWrongStatusNamingTheInteraction) {
  auto doc = [](std::string raw, int status) {
    nlohmann::json j = {{"format", "kmps-cassette/1"},
                        {"interactions", {{{"label", "x1"}, {"method", "GET"}, {"path", "/a"}, {"status", status},
                                           {"response_raw_b64", Base64Encode(raw)}}}}};
    return j.dump();
  };
  auto truncated = ParseCassette(doc("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 200), "c.json");
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(truncated.status().message(), ::testing::HasSubstr("c.json: interaction 0 (x1)"));
  EXPECT_FALSE(ParseCassette(doc("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab", 404), "c.json").ok());
  EXPECT_TRUE(ParseCassette(doc("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab", 200), "c.json").ok());
  EXPECT_FALSE(ParseCassette("{\"format\":\"other\"}", "c.json").ok());
  EXPECT_EQ(LoadCassette("/nonexistent/c.json").status().code(), Code::kNotFound);
}

TEST(CassetteTest, PreviewEscapesBinaryAndSplitsLines) {
  EXPECT_THAT(PreviewLines(std::string("HTTP/1.1 200 OK\r\nA: b\r\n\r\n\x01\x00\x00\x00out\n", 33)),
              ElementsAre("HTTP/1.1 200 OK", "A: b", "", "\\x01\\x00\\x00\\x00out"));
  EXPECT_EQ(PreviewLines(std::string(100, 'a'), 10).back(), "... (90 more bytes)");
}

class H100CassetteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = LoadCassette(KMPS_SOURCE_DIR "/fixtures/cassettes/h100-mps-node.json");
    ASSERT_TRUE(c.ok()) << c.status().message();
    cassette_ = std::move(*c);
  }
  Cassette cassette_;
};

TEST_F(H100CassetteTest, HasEveryExchangeInOrderWithImportBodyOmitted) {
  ASSERT_EQ(cassette_.interactions.size(), 56u);
  EXPECT_EQ(cassette_.interactions.front().label, "ver");
  EXPECT_EQ(cassette_.interactions.back().label, "top-404");
  EXPECT_EQ(cassette_.interactions.back().status, 404);
  const Interaction* import = cassette_.Find("import");
  ASSERT_NE(import, nullptr);
  EXPECT_TRUE(import->request_body.empty());
  ASSERT_TRUE(import->request_body_omitted_bytes.has_value());
  EXPECT_GT(*import->request_body_omitted_bytes, 2'000'000u);
}

TEST_F(H100CassetteTest, TopWithClientShowsMpsServerUnderControlDaemon) {
  const Interaction* top = cassette_.Find("top-with-client");
  ASSERT_NE(top, nullptr);
  auto j = nlohmann::json::parse(BodyOf(*top));
  ASSERT_EQ(j["Titles"], nlohmann::json({"PID", "PPID", "USER", "COMMAND"}));
  bool found = false;
  for (const auto& p : j["Processes"]) {
    if (p[3] == "nvidia-cuda-mps-server") {
      EXPECT_EQ(p[0], "1250");
      EXPECT_EQ(p[1], "1171");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(H100CassetteTest, Exit3StartIsAFramedRawStreamWithStdoutAndStderr) {
  const Interaction* start = cassette_.Find("exit3:start");
  ASSERT_NE(start, nullptr);
  Framing f = FrameResponse(start->response_raw, "POST", true);
  EXPECT_TRUE(f.close_delimited);
  EXPECT_EQ(f.head.Get("Content-Type"), "application/vnd.docker.raw-stream");
  EXPECT_THAT(Demux(BodyOf(*start)), ElementsAre(Pair(1, "out\n"), Pair(2, "err\n")));
  const Interaction* inspect = cassette_.Find("exit3:inspect");
  ASSERT_NE(inspect, nullptr);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*inspect))["ExitCode"], 3);
  const Interaction* missing = cassette_.Find("missing:inspect");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*missing))["ExitCode"], 126);
}

TEST_F(H100CassetteTest, ChunkedWaitResponseIsStillChunked) {
  const Interaction* wait = cassette_.Find("pod-wait");
  ASSERT_NE(wait, nullptr);
  EXPECT_NE(wait->response_raw.find("Transfer-Encoding: chunked\r\n\r\n1e\r\n"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*wait))["StatusCode"], 0);
}

TEST(BusyboxCassetteTest, CoversTheExecEdgeCasesWithStableIds) {
  auto c = LoadCassette(KMPS_SOURCE_DIR "/fixtures/cassettes/busybox-node-exec.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const std::string node = "000000000001" + std::string(52, '0');
  const Interaction* create = c->Find("create");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*create))["Id"], node);
  EXPECT_EQ(create->path, "/v1.41/containers/create?name=kmpsrec-node0000");
  for (const char* label : {"GET /_ping", "GET /version", "list", "inspect", "top"}) {
    const Interaction* it = c->Find(label);
    ASSERT_NE(it, nullptr) << label;
    EXPECT_EQ(it->status, 200) << label;
    EXPECT_NE(it->response_raw.find("\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"), std::string::npos) << label;
  }
  auto list = nlohmann::json::parse(BodyOf(*c->Find("list")));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["Id"], node);

  const Interaction* exit3 = c->Find("exit3:start");
  ASSERT_NE(exit3, nullptr);
  // The daemon copies stdout and stderr concurrently: this recording has "err" first.
  EXPECT_THAT(Demux(BodyOf(*exit3)), ::testing::UnorderedElementsAre(Pair(1, "out\n"), Pair(2, "err\n")));
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*c->Find("exit3:inspect")))["ExitCode"], 3);

  auto missing = Demux(BodyOf(*c->Find("missing:start")));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_THAT(missing[0].second, ::testing::HasSubstr("\"no-such-binary\": executable file not found"));
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*c->Find("missing:inspect")))["ExitCode"], 126);

  std::string mounts;
  for (const auto& [stream, text] : Demux(BodyOf(*c->Find("mounts:start")))) {
    if (stream == 1) mounts += text;
  }
  EXPECT_THAT(mounts, ::testing::HasSubstr(" /dev/shm tmpfs "));

  auto top = nlohmann::json::parse(BodyOf(*c->Find("top")));
  EXPECT_EQ(top["Titles"], nlohmann::json({"PID", "PPID", "USER", "COMMAND"}));
  EXPECT_EQ(top["Processes"][0][3], "sleep 3600");
  EXPECT_EQ(c->Find("top-404")->status, 404);
  const Interaction* stopped = c->Find("exec-stopped");
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(stopped->status, 409);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(*stopped))["message"], "Container " + node + " is not running");
  EXPECT_EQ(c->Find("remove")->status, 204);
}

}  // namespace
}  // namespace kmps::testing
