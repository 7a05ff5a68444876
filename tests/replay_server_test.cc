#include "support/replay_server.h"

#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/http_framing.h"

extern char** environ;

namespace kmps::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string head;  // status line and header lines as received, CRLFs included
  std::string body;  // after transfer decoding
  long new_connects = -1;
};

// A libcurl easy handle talking HTTP over a Unix socket; reused handles keep connections alive.
class Curl {
 public:
  explicit Curl(std::string socket) : socket_(std::move(socket)), h_(curl_easy_init()) {}
  ~Curl() { curl_easy_cleanup(h_); }

  Reply Do(const std::string& method, const std::string& path, const std::string& body = "",
           long timeout_ms = 10000, std::vector<std::string> headers = {}) {
    Reply r;
    curl_easy_reset(h_);
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    std::string url = "http://localhost" + path;
    bool ok = curl_easy_setopt(h_, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str()) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_URL, url.c_str()) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &Append) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_WRITEDATA, &r.body) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &Append) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_HEADERDATA, &r.head) == CURLE_OK;
    if (method == "POST") {
      ok = ok && curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size())) == CURLE_OK &&
           curl_easy_setopt(h_, CURLOPT_COPYPOSTFIELDS, body.c_str()) == CURLE_OK;
    } else if (method != "GET") {
      ok = ok && curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method.c_str()) == CURLE_OK;
    }
    EXPECT_TRUE(ok) << "curl_easy_setopt failed";
    r.code = curl_easy_perform(h_);
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(h_, CURLINFO_NUM_CONNECTS, &r.new_connects);
    curl_slist_free_all(list);
    return r;
  }

 private:
  static size_t Append(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  std::string socket_;
  CURL* h_;
};

Interaction Make(std::string label, std::string method, std::string path, std::string raw) {
  Interaction it;
  it.label = std::move(label);
  it.method = std::move(method);
  it.path = std::move(path);
  it.response_raw = std::move(raw);
  it.status = FrameResponse(it.response_raw, it.method, true).head.status;
  return it;
}

std::string JsonResponse(int status, const std::string& reason, const std::string& body, bool close = false) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
}

const std::string kStream =
    std::string("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nApi-Version: 1.41\r\n\r\n") +
    std::string("\x01\x00\x00\x00\x00\x00\x00\x04out\n\x02\x00\x00\x00\x00\x00\x00\x04err\n", 24);
const std::string kChunked =
    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    "1e\r\n{\"Error\":null,\"StatusCode\":0}\n\r\n0\r\n\r\n";

Cassette Small() {
  Cassette c;
  c.interactions.push_back(Make("version", "GET", "/v1.41/version", JsonResponse(200, "OK", "{\"ApiVersion\":\"1.41\"}\n")));
  c.interactions.push_back(Make("list", "GET", "/v1.41/containers/json?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D",
                                JsonResponse(200, "OK", "[]\n")));
  c.interactions.push_back(Make("inspect-1", "GET", "/v1.41/containers/n1/json", JsonResponse(200, "OK", "{\"n\":1}\n")));
  c.interactions.push_back(Make("inspect-2", "GET", "/v1.41/containers/n1/json", JsonResponse(200, "OK", "{\"n\":2}\n")));
  c.interactions.push_back(Make("create", "POST", "/v1.41/containers/n1/exec", JsonResponse(201, "Created", "{\"Id\":\"e1\"}\n")));
  c.interactions.push_back(Make("start", "POST", "/v1.41/exec/e1/start", kStream));
  c.interactions.push_back(Make("wait", "POST", "/v1.41/containers/n1/wait", kChunked));
  c.interactions.push_back(Make("gone", "GET", "/v1.41/containers/nope/top", JsonResponse(404, "Not Found", "{\"message\":\"No such container: nope\"}\n", true)));
  return c;
}

std::string HeadOf(const std::string& raw) { return raw.substr(0, raw.find("\r\n\r\n") + 4); }

class ReplayServerTest : public ::testing::Test {
 protected:
  void StartWith(Cassette c, ReplayOptions o = {}) {
    server_ = std::make_unique<ReplayServer>(std::move(c), std::move(o));
    ASSERT_TRUE(server_->Start().ok());
    curl_ = std::make_unique<Curl>(server_->socket_path());
  }
  std::unique_ptr<ReplayServer> server_;
  std::unique_ptr<Curl> curl_;
};

TEST_F(ReplayServerTest, ServesExactRecordedStatusHeadersAndBody) {
  Cassette c = Small();
  std::string raw = c.interactions[0].response_raw;
  StartWith(std::move(c));
  Reply r = curl_->Do("GET", "/v1.41/version");
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.head, HeadOf(raw));
  EXPECT_EQ(r.body, "{\"ApiVersion\":\"1.41\"}\n");
  r = curl_->Do("POST", "/v1.41/exec/e1/start", "{\"Detach\":false,\"Tty\":false}");
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.body, kStream.substr(kStream.find("\r\n\r\n") + 4));  // frame headers intact
  r = curl_->Do("POST", "/v1.41/containers/n1/wait");
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.body, "{\"Error\":null,\"StatusCode\":0}\n");
  EXPECT_THAT(server_->misses(), IsEmpty());
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].body, "{\"Detach\":false,\"Tty\":false}");
  EXPECT_EQ(reqs[1].label, "start");
}

TEST_F(ReplayServerTest, IgnoresVersionPrefixAndDecodesQuery) {
  EXPECT_EQ(ReplayServer::NormalizeTarget("/v1.43/containers/x/top?ps_args=-eo%20pid"),
            "/containers/x/top?ps_args=-eo pid");
  EXPECT_EQ(ReplayServer::NormalizeTarget("/version"), "/version");
  EXPECT_EQ(ReplayServer::NormalizeTarget("/v1.41"), "/v1.41");
  StartWith(Small());
  EXPECT_EQ(curl_->Do("GET", "/v1.44/version").status, 200);
  EXPECT_EQ(curl_->Do("GET", "/containers/json?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D").status, 200);
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/nope/top").status, 404);
  EXPECT_THAT(server_->misses(), IsEmpty());
}

TEST_F(ReplayServerTest, ServesEachInteractionOnceInOrderAndReportsMisses) {
  StartWith(Small());
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/n1/json").body, "{\"n\":1}\n");
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/n1/json").body, "{\"n\":2}\n");
  Reply miss = curl_->Do("GET", "/v1.41/containers/n1/json");
  EXPECT_EQ(miss.status, 599);
  EXPECT_EQ(nlohmann::json::parse(miss.body)["message"],
            "replay: no recorded interaction for GET /v1.41/containers/n1/json");
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/json?filters=other").status, 599);
  EXPECT_THAT(server_->misses(), ElementsAre("GET /v1.41/containers/n1/json", "GET /v1.41/containers/json?filters=other"));
  EXPECT_THAT(server_->unused(), ElementsAre("version", "list", "create", "start", "wait", "gone"));
}

TEST_F(ReplayServerTest, SynthesizesPingUnlessDisabled) {
  ReplayOptions o;
  o.ping_api_version = "1.40";
  StartWith(Small(), o);
  Reply r = curl_->Do("GET", "/_ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_THAT(r.head, HasSubstr("\r\nApi-Version: 1.40\r\n"));
  EXPECT_EQ(curl_->Do("GET", "/v1.40/_ping").status, 200);
  EXPECT_THAT(server_->misses(), IsEmpty());

  ReplayOptions off;
  off.synthesize_ping = false;
  StartWith(Small(), off);
  EXPECT_EQ(curl_->Do("GET", "/_ping").status, 599);
  EXPECT_THAT(server_->misses(), ElementsAre("GET /_ping"));
}

TEST_F(ReplayServerTest, KeepsConnectionAliveUntilACloseDelimitedOrConnectionCloseResponse) {
  StartWith(Small());
  Reply a = curl_->Do("GET", "/v1.41/version");
  Reply b = curl_->Do("GET", "/v1.41/containers/n1/json");
  Reply c = curl_->Do("POST", "/v1.41/containers/n1/exec", "{}");
  ASSERT_EQ(c.code, CURLE_OK);
  EXPECT_EQ(a.new_connects, 1);
  EXPECT_EQ(b.new_connects, 0);
  EXPECT_EQ(c.new_connects, 0);
  EXPECT_EQ(server_->connections(), 1u);
  ASSERT_EQ(curl_->Do("POST", "/v1.41/exec/e1/start", "{}").code, CURLE_OK);  // stream: server closes
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/nope/top").new_connects, 1);    // Connection: close
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/n1/json").new_connects, 1);
  EXPECT_EQ(server_->connections(), 3u);
}

TEST_F(ReplayServerTest, AnswersExpectContinueAndReadsTheWholeBody) {
  StartWith(Small());
  std::string big(200000, 'x');
  Reply r = curl_->Do("POST", "/v1.41/containers/n1/exec", big, 10000, {"Expect: 100-continue"});
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(server_->requests().at(0).body.size(), big.size());
}

TEST_F(ReplayServerTest, TruncationMakesTheTransferFail) {
  StartWith(Small());
  const std::size_t head = HeadOf(Small().interactions[2].response_raw).size();
  ASSERT_TRUE(server_->InjectFault("inspect-1", Fault::Truncate(head + 3)).ok());  // inside the body
  ASSERT_TRUE(server_->InjectFault("inspect-2", Fault::Truncate(0)).ok());         // nothing at all
  ASSERT_TRUE(server_->InjectFault("version", Fault::Truncate(36)).ok());          // after a header line
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/n1/json").code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/n1/json").code, CURLE_GOT_NOTHING);
  // libcurl takes a close right after a complete header line as the end of the head and reports
  // success with an empty body: clients must treat an empty JSON body as a protocol error.
  Reply r = curl_->Do("GET", "/v1.41/version");
  EXPECT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(server_->InjectFault("no-such-label", Fault::Truncate(1)).code(), Code::kNotFound);
  EXPECT_EQ(server_->InjectFaultAt(99, Fault::Truncate(1)).code(), Code::kNotFound);
}

TEST_F(ReplayServerTest, CloseMidStreamCutsBodies) {
  StartWith(Small());
  ASSERT_TRUE(server_->InjectFault("wait", Fault::CloseMidStream(10)).ok());
  ASSERT_TRUE(server_->InjectFault("inspect-1", Fault::CloseMidStream(3)).ok());
  ASSERT_TRUE(server_->InjectFault("start", Fault::CloseMidStream(12)).ok());
  EXPECT_EQ(curl_->Do("POST", "/v1.41/containers/n1/wait").code, CURLE_PARTIAL_FILE);  // chunked, cut
  EXPECT_EQ(curl_->Do("GET", "/v1.41/containers/n1/json").code, CURLE_PARTIAL_FILE);   // Content-Length, cut
  // A close-delimited stream cut after 12 bytes ends "normally" for HTTP: the client sees one
  // whole frame and 4 bytes of the next, which its demuxer must report.
  Reply s = curl_->Do("POST", "/v1.41/exec/e1/start");
  EXPECT_EQ(s.code, CURLE_OK);
  EXPECT_EQ(s.body.size(), 12u);
}

TEST_F(ReplayServerTest, StallsLetTheClientDeadlineFire) {
  StartWith(Small());
  ASSERT_TRUE(server_->InjectFault("version", Fault::StallBeforeResponse()).ok());
  ASSERT_TRUE(server_->InjectFault("inspect-1", Fault::StallAfterHeaders()).ok());
  ASSERT_TRUE(server_->InjectFault("inspect-2", Fault::StallAfterHeaders(20ms)).ok());
  Reply a = curl_->Do("GET", "/v1.41/version", "", 300);
  EXPECT_EQ(a.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(a.status, 0);
  Reply b = curl_->Do("GET", "/v1.41/containers/n1/json", "", 300);
  EXPECT_EQ(b.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(b.status, 200);  // the head arrived, the body never did
  Reply c = curl_->Do("GET", "/v1.41/containers/n1/json", "", 10000);  // short stall, then the rest
  EXPECT_EQ(c.code, CURLE_OK);
  EXPECT_EQ(c.body, "{\"n\":2}\n");
  server_->Stop();  // ends the open-ended stalls
  server_->Stop();  // idempotent
}

TEST_F(ReplayServerTest, StopUnlinksTheSocket) {
  StartWith(Small());
  std::string path = server_->socket_path();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(server_->Start().ok());
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
}

TEST_F(ReplayServerTest, ReplaysTheH100CassetteForANewerVersion) {
  auto c = LoadCassette(KMPS_SOURCE_DIR "/fixtures/cassettes/h100-mps-node.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const Interaction* top = c->Find("top-with-client");
  ASSERT_NE(top, nullptr);
  std::string raw = top->response_raw;
  StartWith(std::move(*c));
  Reply r = curl_->Do("GET", "/v1.43/containers/workshop-dra-control-plane/top?ps_args=-eo%20pid,ppid,user,args");
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.head + r.body, raw);
  Reply gone = curl_->Do("GET", "/v1.41/containers/nope/top");
  EXPECT_EQ(gone.status, 404);
  EXPECT_THAT(server_->misses(), IsEmpty());
}

TEST_F(ReplayServerTest, ReplaysTheWholeBusyboxCassetteOnOneHandle) {
  auto c = LoadCassette(KMPS_SOURCE_DIR "/fixtures/cassettes/busybox-node-exec.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::vector<Interaction> list = c->interactions;
  StartWith(std::move(*c));
  for (const auto& it : list) {
    Reply r = curl_->Do(it.method, it.path, it.request_body);
    ASSERT_EQ(r.code, CURLE_OK) << it.label;
    EXPECT_EQ(r.status, it.status) << it.label;
    EXPECT_EQ(r.head, HeadOf(it.response_raw)) << it.label;
  }
  EXPECT_THAT(server_->misses(), IsEmpty());
  EXPECT_THAT(server_->unused(), IsEmpty());
  EXPECT_LT(server_->connections(), list.size());  // keep-alive responses reused connections
}

// ---- Recorder round trip against the real engine ----

std::string DockerSocket() {
  const char* host = std::getenv("DOCKER_HOST");
  if (host != nullptr && std::string_view(host).rfind("unix://", 0) == 0) return host + 7;
  return "/var/run/docker.sock";
}

bool WaitForSocket(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(RecorderTest, RecordsStableIdsAndConsistentLengthsThroughTheRealEngine) {
  std::string docker = DockerSocket();
  if (Curl(docker).Do("GET", "/_ping", "", 3000).body != "OK") {
    if (const char* req = std::getenv("KMPS_REQUIRE_DOCKER"); req != nullptr && std::string(req) == "1") {
      FAIL() << "Docker engine unreachable on " << docker << " and KMPS_REQUIRE_DOCKER=1";
    }
    GTEST_SKIP() << "Docker engine unreachable on " << docker << "; run tools/setup-docker.sh";
  }
  char tmpl[] = "/tmp/kmps-rec-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::filesystem::path dir = tmpl;
  std::string sock = (dir / "rec.sock").string();
  std::string out = (dir / "c.json").string();
  std::string recorder = KMPS_BINARY_DIR "/tools/recorder/kmps-recorder";
  std::string name = "kmps-rectest-" + std::to_string(::getpid());
  std::string scrub = name + "=" + std::string(name.size() - 4, 'n') + "node";
  std::vector<std::string> args = {recorder, "--listen", sock, "--out", out, "--upstream", docker, "--scrub", scrub};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, recorder.c_str(), nullptr, nullptr, argv.data(), environ), 0) << recorder;
  ASSERT_TRUE(WaitForSocket(sock)) << "kmps-recorder did not listen on " << sock;

  Curl curl(sock);
  EXPECT_EQ(curl.Do("GET", "/_ping").body, "OK");
  Reply created = curl.Do("POST", "/v1.41/containers/create?name=" + name,
                          R"({"Image":"kmps-test:busybox","Cmd":["sleep","60"]})", 10000,
                          {"Content-Type: application/json", "X-Kmps-Label: create"});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = nlohmann::json::parse(created.body)["Id"];
  EXPECT_EQ(curl.Do("GET", "/v1.41/containers/" + id + "/json").status, 200);
  EXPECT_EQ(curl.Do("GET", "/v1.41/containers/" + name + "/json").status, 200);
  EXPECT_EQ(curl.Do("DELETE", "/v1.41/containers/" + id + "?force=1").status, 204);
  EXPECT_EQ(curl.Do("GET", "/v1.41/containers/" + id + "/json").status, 404);
  Curl(docker).Do("DELETE", "/v1.41/containers/" + name + "?force=1");  // in case a step failed

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_FALSE(std::filesystem::exists(sock));

  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().find(id), std::string::npos) << "real ID left in the cassette";
  EXPECT_EQ(text.str().find(id.substr(0, 12)), std::string::npos) << "real short ID left in the cassette";
  EXPECT_EQ(text.str().find(name), std::string::npos) << "container name not scrubbed";
  auto cassette = ParseCassette(text.str(), out);
  ASSERT_TRUE(cassette.ok()) << cassette.status().message();
  ASSERT_EQ(cassette->interactions.size(), 6u);
  const auto& list = cassette->interactions;
  EXPECT_EQ(list[0].label, "GET /_ping");
  EXPECT_EQ(list[1].label, "create");
  std::string fake = "000000000001" + std::string(52, '0');
  EXPECT_THAT(list[1].response_raw, HasSubstr("{\"Id\":\"" + fake + "\""));
  EXPECT_EQ(list[2].path, "/v1.41/containers/" + fake + "/json");
  EXPECT_EQ(list[4].path, "/v1.41/containers/" + fake + "?force=1");
  EXPECT_EQ(list[5].status, 404);
  for (const auto& it : list) {
    Framing f = FrameResponse(it.response_raw, it.method, true);
    ASSERT_EQ(f.state, FrameState::kComplete) << it.label;
    EXPECT_EQ(f.total_len, it.response_raw.size()) << it.label;
    if (auto cl = f.head.Get("Content-Length")) {
      EXPECT_EQ(std::to_string(DecodedBody(it.response_raw, f)->size()), *cl) << it.label;
    }
    EXPECT_EQ(f.head.Get("Date"), "Thu, 01 Jan 2026 00:00:00 GMT") << it.label;
    EXPECT_TRUE(it.elapsed_ms.has_value());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kmps::testing
