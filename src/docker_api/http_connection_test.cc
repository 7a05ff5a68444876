// The client against a plain HTTP/1.1 server on a Unix socket (keep-alive, Connection: close,
// chunked bodies, streams cut mid-frame, a stalled daemon, no listener).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "docker_api/docker_client.h"
#include "docker_api/http_connection.h"
#include "support/replay_server.h"

namespace kmps::docker {
namespace {

using kmps::testing::FakeDaemon;
using kmps::testing::FakeRequest;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Frame(unsigned char stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  f[7] = static_cast<char>(payload.size());  // < 256 here
  return f + std::string(payload);
}

const char kStreamHead[] = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n";

std::unique_ptr<DockerClient> Client(const FakeDaemon& d, std::string version = "",
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  ClientOptions o;
  o.docker_host = d.docker_host();
  o.api_version = std::move(version);
  o.call_timeout = timeout;
  auto c = DockerClient::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return std::move(c).value();
}

std::string Ping(std::string_view version) {
  return FakeDaemon::Reply(200, "OK", fmt::format("Api-Version: {}\r\n", version));
}

TEST(FakeDaemon, KeepAliveReusesOneConnection) {
  FakeDaemon d([](const FakeRequest& r, bool&) {
    if (r.path == "/_ping") return Ping("1.41");
    return FakeDaemon::Reply(200, "[]");
  });
  auto c = Client(d);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->ListContainers({}).ok());
  EXPECT_EQ(d.connections(), 1);
  EXPECT_EQ(d.requests().size(), 4u);  // one ping, three lists
}

TEST(FakeDaemon, ConnectionCloseRepliesWork) {
  FakeDaemon d([](const FakeRequest& r, bool&) {
    if (r.path == "/_ping") return FakeDaemon::Reply(200, "OK", "Api-Version: 1.41\r\n", false);
    return FakeDaemon::Reply(200, R"({"Version":"20.10"})", "", /*keep_alive=*/false);
  });
  auto c = Client(d);
  for (int i = 0; i < 3; ++i) {
    auto v = c->Version();
    ASSERT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ((*v)["Version"], "20.10");
  }
  EXPECT_EQ(d.connections(), 4);
}

TEST(FakeDaemon, ChunkedBody) {
  FakeDaemon d([](const FakeRequest&, bool&) {
    return FakeDaemon::Chunked(200, {R"({"Titles":["PID","CMD"],)", R"("Processes":[["1","sleep 1"]]})"});
  });
  auto c = Client(d, "1.41");
  auto t = c->Top("node", "-o pid,args");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->Column("PID"), 0);
  EXPECT_EQ(t->Column("COMMAND"), 1);
  ASSERT_EQ(t->processes.size(), 1u);
  EXPECT_EQ(t->processes[0][1], "sleep 1");
  EXPECT_EQ(d.requests()[0].path, "/v1.41/containers/node/top?ps_args=-o%20pid%2Cargs");
}

TEST(FakeDaemon, NegotiatesDownToTheClientMaximum) {
  FakeDaemon d([](const FakeRequest& r, bool&) {
    if (r.path == "/_ping") return Ping("1.52");
    return FakeDaemon::Reply(200, "[]");
  });
  auto c = Client(d);
  ASSERT_TRUE(c->ListContainers({}).ok());
  EXPECT_EQ(*c->ApiVersion(), std::string(kClientMaxApiVersion));
  EXPECT_THAT(d.requests().back().path, StartsWith(fmt::format("/v{}/containers/json", kClientMaxApiVersion)));
}

TEST(FakeDaemon, NegotiatesDownToTheServerAndClonesKeepIt) {
  FakeDaemon d([](const FakeRequest& r, bool&) {
    if (r.path == "/_ping") return Ping("1.30");
    return FakeDaemon::Reply(200, "[]");
  });
  auto c = Client(d);
  ASSERT_TRUE(c->ListContainers({}).ok());
  auto clone = c->Clone();
  ASSERT_TRUE(clone.ok());
  ASSERT_TRUE((*clone)->ListContainers({}).ok());
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 3u);  // the clone did not ping again
  EXPECT_THAT(reqs[2].path, StartsWith("/v1.30/containers/json"));
}

TEST(FakeDaemon, RefusesADaemonTooOld) {
  FakeDaemon d([](const FakeRequest&, bool&) { return Ping("1.12"); });
  auto c = Client(d);
  Status s = c->ListContainers({}).status();
  EXPECT_EQ(s.code(), Code::kEnvironment);
  EXPECT_THAT(s.message(), HasSubstr("1.12"));
  EXPECT_THAT(s.message(), HasSubstr(d.socket_path()));
}

TEST(FakeDaemon, PinnedVersionSkipsThePing) {
  FakeDaemon d([](const FakeRequest&, bool&) { return FakeDaemon::Reply(200, "[]"); });
  auto c = Client(d, "1.35");
  ASSERT_TRUE(c->ListContainers({.all = true, .labels = {"a=b"}, .name = "n.1"}).ok());
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path,
            "/v1.35/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%2C%22name%22%3A%5B%22%5E%2F%3Fn%"
            "5C%5C.1%24%22%5D%7D");
}

TEST(FakeDaemon, PinnedVersionFromEnvironment) {
  setenv("DOCKER_API_VERSION", "1.33", 1);
  FakeDaemon d([](const FakeRequest&, bool&) { return FakeDaemon::Reply(200, "[]"); });
  auto c = Client(d);
  unsetenv("DOCKER_API_VERSION");
  ASSERT_TRUE(c->ListContainers({}).ok());
  EXPECT_THAT(d.requests()[0].path, StartsWith("/v1.33/"));
}

TEST(FakeDaemon, ErrorsCarryTheDaemonMessage) {
  FakeDaemon d([](const FakeRequest& r, bool&) {
    if (r.path.find("/start") != std::string::npos) {
      return FakeDaemon::Reply(500, R"({"message":"cannot start: boom"})");
    }
    return FakeDaemon::Reply(409, R"({"message":"Container abc is not running"})");
  });
  auto c = Client(d, "1.41");
  ExecOptions o;
  o.cmd = {"true"};
  Status s = c->ExecCreate("abc", o).status();
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.message(), "exec in container abc: Container abc is not running (HTTP 409)");
  Status st = c->StartContainer("abc");
  EXPECT_EQ(st.code(), Code::kServerError);
  EXPECT_THAT(st.message(), HasSubstr("cannot start: boom"));
}

// An exec whose daemon serves create, start (the given stream) and a sequence of inspects.
FakeDaemon::Handler ExecDaemon(std::string stream, std::vector<std::string> inspects) {
  auto n = std::make_shared<size_t>(0);
  return [stream, inspects, n](const FakeRequest& r, bool& close_after) {
    if (r.path.ends_with("/exec")) return FakeDaemon::Reply(201, R"({"Id":"e1"})");
    if (r.path.ends_with("/start")) {
      close_after = true;
      return std::string(kStreamHead) + stream;
    }
    const std::string& body = inspects[std::min(*n, inspects.size() - 1)];
    ++*n;
    return FakeDaemon::Reply(200, body);
  };
}

TEST(FakeDaemon, ExecStreamsAndPollsUntilTheExitCodeIsKnown) {
  FakeDaemon d(ExecDaemon(Frame(1, "out\n") + Frame(2, "err\n"),
                          {R"({"Running":true,"ExitCode":null})", R"({"Running":false,"ExitCode":null})",
                           R"({"Running":false,"ExitCode":7})"}));
  auto c = Client(d, "1.41");
  ExecOptions o;
  o.cmd = {"sh", "-c", "x"};
  o.env = {"A=1"};
  auto r = c->ExecCapture("node", o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 5u);
  auto create = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(create["Tty"], false);
  EXPECT_EQ(create["Env"][0], "A=1");
  EXPECT_EQ(nlohmann::json::parse(reqs[1].body)["Tty"], false);
}

TEST(FakeDaemon, NullExitCodeIsNeverZero) {
  FakeDaemon d(ExecDaemon("", {R"({"Running":false,"ExitCode":null})"}));
  auto c = Client(d, "1.41");
  ExecOptions o;
  o.cmd = {"true"};
  o.timeout = std::chrono::milliseconds(300);
  auto r = c->ExecCapture("node", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("node"));
}

TEST(FakeDaemon, StreamClosedMidFrameIsProtocolError) {
  FakeDaemon d(ExecDaemon(Frame(1, "hello").substr(0, 10), {R"({"Running":false,"ExitCode":0})"}));
  auto c = Client(d, "1.41");
  ExecOptions o;
  o.cmd = {"true"};
  auto r = c->ExecCapture("node", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol);
  EXPECT_THAT(r.status().message(), HasSubstr("mid-frame"));
}

// Found by tests/fuzz/http_response_fuzz (fixtures/fuzz/http_response/crash-status-4, status-*):
// libcurl reads "HTTP/204 ..." as HTTP/2 with status 4, and accepts 999.
// GET /_ping through a connection of its own, without the client's checks on top.
StatusOr<HttpResponse> PingOnce(const FakeDaemon& d) {
  auto endpoint = ParseDockerHost(d.docker_host());
  if (!endpoint.ok()) return endpoint.status();
  KMPS_ASSIGN_OR_RETURN(HttpConnection conn, HttpConnection::Create(*endpoint, std::chrono::seconds(5)));
  HttpRequest req;
  req.path = "/_ping";
  return conn.Do(req, Deadline::In(std::chrono::seconds(5)));
}

TEST(FakeDaemon, MalformedStatusLineIsProtocolError) {
  for (std::string reply : {"HTTP/204 No Content\r\n\r\n", "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"}) {
    FakeDaemon d([&](const FakeRequest&, bool& close_after) {
      close_after = true;  // the body of a reply that says no length ends with the connection
      return reply;
    });
    auto r = PingOnce(d);
    ASSERT_FALSE(r.ok()) << reply << " read as status " << r->status;
    EXPECT_EQ(r.status().code(), Code::kProtocol);
    EXPECT_THAT(r.status().message(), HasSubstr("malformed status line"));
  }
}

// Headers as libcurl parsed them: the final response's only (not a 100 Continue's), names in any
// case, blanks around values dropped, the last of a repeated name, no chunked trailers.
TEST(FakeDaemon, HeadersOfTheFinalResponse) {
  FakeDaemon d([&](const FakeRequest&, bool& close_after) {
    close_after = true;
    return std::string(
        "HTTP/1.1 100 Continue\r\nApi-Version: 1.10\r\nX-Early: yes\r\n\r\n"
        "HTTP/1.1 200 OK\r\nAPI-VERSION:   1.43  \r\nX-Twice: one\r\nx-twice: two\r\n"
        "Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n"
        "2\r\nOK\r\n0\r\nX-Trailer: late\r\n\r\n");
  });
  auto r = PingOnce(d);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "OK");
  EXPECT_EQ(r->Header("Api-Version"), "1.43");
  EXPECT_EQ(r->headers.at("api-version"), "1.43");
  EXPECT_EQ(r->Header("X-Twice"), "two");
  EXPECT_EQ(r->Header("X-Early"), "");
  EXPECT_EQ(r->Header("X-Trailer"), "");
}

TEST(FakeDaemon, StalledDaemonHitsTheDeadline) {
  FakeDaemon d([](const FakeRequest&, bool&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return Ping("1.41");
  });
  auto c = Client(d, "", std::chrono::milliseconds(200));
  Status s = c->Ping();
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr(d.socket_path()));
}

TEST(Transport, MissingSocketIsUnavailableAndNamesThePath) {
  ClientOptions o;
  o.docker_host = "unix:///tmp/kmps-no-such-dir/docker.sock";
  auto c = DockerClient::Create(o);
  ASSERT_TRUE(c.ok());
  Status s = (*c)->Ping();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(),
            "cannot connect to the Docker daemon at /tmp/kmps-no-such-dir/docker.sock: no such file (is dockerd "
            "running?)");
}

TEST(Transport, SocketWithoutListenerIsUnavailable) {
  std::string path = fmt::format("/tmp/kmps-nolisten-{}.sock", getpid());
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ClientOptions o;
  o.docker_host = "unix://" + path;
  auto c = DockerClient::Create(o);
  ASSERT_TRUE(c.ok());
  Status s = (*c)->Ping();
  close(fd);
  unlink(path.c_str());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr("connection refused"));
}

TEST(Transport, UnsupportedSchemeIsInvalidArgument) {
  ClientOptions o;
  o.docker_host = "ssh://user@host";
  auto c = DockerClient::Create(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("ssh://user@host"));
}

TEST(Transport, MalformedPinnedVersionIsInvalidArgument) {
  ClientOptions o;
  o.docker_host = "unix:///tmp/x.sock";
  o.api_version = "one";
  EXPECT_EQ(DockerClient::Create(o).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kmps::docker
