// The hijacked exec connection and its stdin pump, against fake daemons on a Unix socket (a
// listening one for Hijack, a socketpair for PumpExecStream): the 101 upgrade, frames and raw TTY
// bytes, stdin copied and its end seen by the daemon as a half-close, error replies, the deadline,
// a closed stdout, a cut stream, a daemon that stops reading.
#include "docker_api/exec_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "common/fd.h"
#include "docker_api/hijack.h"

namespace kmps::docker {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string Frame(int stream, std::string_view payload) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) h[4 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return h + std::string(payload);
}

void Send(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// What the daemon's side reads until our write side is shut (recv 0) or the connection breaks.
std::string ReadToEnd(int fd) {
  std::string all;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) all.append(buf, static_cast<size_t>(n));
  return all;
}

constexpr std::string_view kUpgraded =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n"
    "Upgrade: tcp\r\n\r\n";

// Collects the sink's output; refuses once `refuse_after` stdout bytes came (0: never).
class Sink : public OutputSink {
 public:
  void OnStdout(std::string_view d) override { out.append(d); }
  void OnStderr(std::string_view d) override { err.append(d); }
  Status Refusal() const override {
    return refuse_after > 0 && out.size() >= refuse_after ? Failed("stdout was closed (broken pipe)") : Status::Ok();
  }
  std::string out, err;
  size_t refuse_after = 0;
};

// A daemon of one connection on a socketpair: `script` runs on a thread with the daemon's end,
// which is closed after it; the test's end is non-blocking, as Hijack leaves it.
class PairDaemon {
 public:
  explicit PairDaemon(std::function<void(int)> script) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ours_ = sv[0];
    ::fcntl(ours_, F_SETFL, ::fcntl(ours_, F_GETFL) | O_NONBLOCK);
    thread_ = std::thread([fd = sv[1], script = std::move(script)] {
      script(fd);
      ::close(fd);
    });
  }
  ~PairDaemon() {
    if (ours_ >= 0) ::close(ours_);
    thread_.join();
  }
  int fd() const { return ours_; }
  void CloseOurs() {
    ::close(ours_);
    ours_ = -1;
  }

 private:
  int ours_ = -1;
  std::thread thread_;
};

// A pipe whose read end is the exec's stdin; `input` is written by a thread, then the write end
// closed (unless keep_open).
class StdinPipe {
 public:
  explicit StdinPipe(std::string input, bool keep_open = false) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    read_ = p[0];
    write_ = p[1];
    writer_ = std::thread([this, input = std::move(input), keep_open] {
      WriteAll(write_, input);
      if (!keep_open) {
        ::close(write_);
        write_ = -1;
      }
    });
  }
  ~StdinPipe() {
    writer_.join();
    if (write_ >= 0) ::close(write_);
    ::close(read_);
  }
  int fd() const { return read_; }

 private:
  int read_ = -1;
  int write_ = -1;
  std::thread writer_;
};

PumpOptions WithStdin(int fd) {
  PumpOptions o;
  o.stdin_fd = fd;
  return o;
}

// ---- the request and the reply head ----

TEST(HijackTest, RequestAsksForTheUpgrade) {
  Endpoint unix_ep;
  unix_ep.socket_path = "/run/x.sock";
  std::string body = R"({"Detach":false,"Tty":true})";
  std::string text = HijackRequestText(unix_ep, "/v1.41/exec/abc/start", body);
  EXPECT_TRUE(text.starts_with("POST /v1.41/exec/abc/start HTTP/1.1\r\n")) << text;
  EXPECT_THAT(text, HasSubstr("\r\nHost: localhost\r\n"));
  EXPECT_THAT(text, HasSubstr("\r\nConnection: Upgrade\r\n"));
  EXPECT_THAT(text, HasSubstr("\r\nUpgrade: tcp\r\n"));
  EXPECT_THAT(text, HasSubstr("\r\nContent-Type: application/json\r\n"));
  EXPECT_THAT(text, HasSubstr(fmt::format("\r\nContent-Length: {}\r\n", body.size())));
  EXPECT_TRUE(text.ends_with("\r\n\r\n" + body));

  Endpoint tcp;
  tcp.kind = Endpoint::Kind::kTcp;
  tcp.host = "10.0.0.1";
  tcp.port = 2375;
  EXPECT_THAT(HijackRequestText(tcp, "/x", "{}"), HasSubstr("\r\nHost: 10.0.0.1:2375\r\n"));
}

TEST(HijackTest, ParsesTheReplyHead) {
  auto partial = ParseResponseHead("HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n");
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());

  std::string data = std::string(kUpgraded) + "stream";
  auto head = ParseResponseHead(data);
  ASSERT_TRUE(head.ok()) << head.status().message();
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->status, 101);
  EXPECT_EQ((*head)->size, kUpgraded.size());
  EXPECT_EQ((*head)->headers.at("upgrade"), "tcp");
  EXPECT_EQ((*head)->headers.at("content-type"), "application/vnd.docker.raw-stream");

  for (std::string bad : {"HTTP/1.1 1O1 UPGRADED\r\n\r\n", "HTTP/204 No Content\r\n\r\n", "HTTP/1.1 999 X\r\n\r\n",
                          "HTTP/1.1 2000\r\n\r\n", "SSH-2.0\r\n\r\n"}) {
    auto r = ParseResponseHead(bad);
    EXPECT_EQ(r.status().code(), Code::kProtocol) << bad;
  }
  auto endless = ParseResponseHead("HTTP/1.1 200 OK\r\n" + std::string(kMaxHeadBytes, 'x'));
  EXPECT_EQ(endless.status().code(), Code::kProtocol);
}

// ---- Hijack against a listening socket ----

// A daemon of one connection on a Unix socket in a fresh directory: `script` gets the connected
// fd and the request as received (head and Content-Length body).
class ListeningDaemon {
 public:
  using Script = std::function<void(int fd, const std::string& request)>;
  explicit ListeningDaemon(Script script) {
    char tmpl[] = "/tmp/kmps-hijack-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    endpoint_.socket_path = dir_ + "/docker.sock";
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, endpoint_.socket_path.c_str());
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_, 4), 0);
    thread_ = std::thread([this, script = std::move(script)] {
      int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string req;
      char buf[4096];
      size_t want = std::string::npos;
      while (want == std::string::npos || req.size() < want) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        size_t end = req.find("\r\n\r\n");
        if (want == std::string::npos && end != std::string::npos) {
          size_t at = req.find("Content-Length: ");
          size_t length = at == std::string::npos ? 0 : std::strtoul(req.c_str() + at + 16, nullptr, 10);
          want = end + 4 + length;
        }
      }
      script(fd, req);
      ::close(fd);
    });
  }
  ~ListeningDaemon() {
    ::shutdown(listen_, SHUT_RDWR);
    thread_.join();
    ::close(listen_);
    std::filesystem::remove_all(dir_);
  }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  std::string dir_;
  Endpoint endpoint_;
  int listen_ = -1;
  std::thread thread_;
};

TEST(HijackTest, UpgradedConnectionCarriesStdinAndItsEndBothWays) {
  std::string request, seen_by_daemon;
  ListeningDaemon daemon([&](int fd, const std::string& req) {
    request = req;
    // The head and the first frame in one write: the client must keep what came with the head.
    Send(fd, std::string(kUpgraded) + Frame(1, "ready\n"));
    seen_by_daemon = ReadToEnd(fd);  // until our write side is shut: the command's EOF
    Send(fd, Frame(1, seen_by_daemon) + Frame(2, "eof\n"));
  });
  bool refused = true;
  auto conn = Hijack(daemon.endpoint(), "/v1.41/exec/e1/start", R"({"Detach":false,"Tty":false})",
                     Deadline::In(10s), 5s, "start exec e1", refused);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  EXPECT_FALSE(refused);
  EXPECT_EQ(conn->status, 101);
  EXPECT_EQ(conn->early, Frame(1, "ready\n"));

  StdinPipe in("hello\nworld\n");
  Sink sink;
  PumpStats stats;
  Status s = PumpExecStream(conn->fd->get(), conn->early, sink, WithStdin(in.fd()), Deadline::In(10s), &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.out, "ready\nhello\nworld\n");
  EXPECT_EQ(sink.err, "eof\n");
  EXPECT_EQ(seen_by_daemon, "hello\nworld\n");
  EXPECT_TRUE(stats.stdin_ended);
  EXPECT_FALSE(stats.stdin_dropped);
  EXPECT_EQ(stats.stdin_bytes, 12u);
  EXPECT_TRUE(request.starts_with("POST /v1.41/exec/e1/start HTTP/1.1\r\n")) << request;
  EXPECT_THAT(request, HasSubstr("Upgrade: tcp\r\n"));
  EXPECT_TRUE(request.ends_with("\r\n\r\n{\"Detach\":false,\"Tty\":false}")) << request;
}

TEST(HijackTest, PlainOkIsAcceptedToo) {
  ListeningDaemon daemon([](int fd, const std::string&) {
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" + Frame(1, "x"));
  });
  bool refused = true;
  auto conn = Hijack(daemon.endpoint(), "/v1.41/exec/e/start", "{}", Deadline::In(10s), 5s, "start exec e", refused);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  EXPECT_EQ(conn->status, 200);
  Sink sink;
  ASSERT_TRUE(PumpExecStream(conn->fd->get(), conn->early, sink, {}, Deadline::In(10s)).ok());
  EXPECT_EQ(sink.out, "x");
}

TEST(HijackTest, ErrorRepliesAreTheDaemonsMessageAndMeanTheCommandNeverRan) {
  std::string msg = R"({"message":"Container kmps-n is not running"})";
  ListeningDaemon conflict([&](int fd, const std::string&) {
    Send(fd, fmt::format("HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                         msg.size(), msg));
  });
  bool refused = false;
  auto r = Hijack(conflict.endpoint(), "/v1.41/exec/e/start", "{}", Deadline::In(10s), 5s, "start exec e", refused);
  EXPECT_TRUE(refused);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(r.status().message(), "start exec e: Container kmps-n is not running (HTTP 409)");

  std::string nf = R"({"message":"No such exec instance: e"})";
  ListeningDaemon chunked([&](int fd, const std::string&) {
    Send(fd, fmt::format("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                         nf.size(), nf));
  });
  auto c = Hijack(chunked.endpoint(), "/v1.41/exec/e/start", "{}", Deadline::In(10s), 5s, "start exec e", refused);
  EXPECT_TRUE(refused);
  EXPECT_EQ(c.status().code(), Code::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("No such exec instance: e"));
}

TEST(HijackTest, NoDaemonIsUnavailableAndAHeadThatNeverEndsMeetsTheDeadline) {
  Endpoint none;
  none.socket_path = "/tmp/kmps-none/docker.sock";
  bool refused = true;
  auto r = Hijack(none, "/v1.41/exec/e/start", "{}", Deadline::In(5s), 5s, "start exec e", refused);
  EXPECT_FALSE(refused);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("/tmp/kmps-none/docker.sock"));

  std::atomic<bool> done{false};
  ListeningDaemon stall([&](int fd, const std::string&) {
    Send(fd, "HTTP/1.1 101 UPGRADED\r\n");
    while (!done) std::this_thread::sleep_for(10ms);
  });
  auto t0 = std::chrono::steady_clock::now();
  auto s = Hijack(stall.endpoint(), "/v1.41/exec/e/start", "{}", Deadline::In(300ms), 5s, "start exec e", refused);
  done = true;
  EXPECT_EQ(s.status().code(), Code::kDeadlineExceeded) << s.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

// ---- the pump ----

TEST(PumpTest, LargeStdinFlowsUnderBackpressureAndEndsWithAHalfClose) {
  constexpr size_t kBytes = 8u << 20;
  size_t got = 0;
  PairDaemon daemon([&](int fd) {
    char buf[4096];  // a slow reader: small reads
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got += static_cast<size_t>(n);
    Send(fd, Frame(1, std::to_string(got)));
  });
  StdinPipe in(std::string(kBytes, 'z'));
  Sink sink;
  PumpStats stats;
  Status s = PumpExecStream(daemon.fd(), "", sink, WithStdin(in.fd()), Deadline::In(30s), &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.out, std::to_string(kBytes));
  EXPECT_EQ(stats.stdin_bytes, kBytes);
  EXPECT_TRUE(stats.stdin_ended);
}

TEST(PumpTest, TtyStreamIsCopiedAsItIs) {
  // Bytes that are no valid frame header: a TTY's stream is not multiplexed.
  std::string raw = std::string("\x05\x01 raw\r\n", 8) + "prompt$ ";
  PairDaemon daemon([&](int fd) { Send(fd, raw); });
  Sink sink;
  PumpOptions o;
  o.tty = true;
  Status s = PumpExecStream(daemon.fd(), "", sink, o, Deadline::In(10s));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.out, raw);
  EXPECT_EQ(sink.err, "");

  PairDaemon framed([&](int fd) { Send(fd, raw); });
  Sink demuxed;
  EXPECT_EQ(PumpExecStream(framed.fd(), "", demuxed, {}, Deadline::In(10s)).code(), Code::kProtocol);
}

TEST(PumpTest, WithoutStdinTheWriteSideStaysOpenAndWithDevNullItIsShut) {
  auto daemon_saw_end = [](bool attach_dev_null) {
    bool shut = false;
    PairDaemon daemon([&](int fd) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 300) == 1) {
        char c;
        shut = ::recv(fd, &c, 1, 0) == 0;
      }
      Send(fd, Frame(1, "done"));
    });
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    Sink sink;
    Status s = PumpExecStream(daemon.fd(), "", sink, attach_dev_null ? WithStdin(null) : PumpOptions{},
                              Deadline::In(10s));
    ::close(null);
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(sink.out, "done");
    return shut;
  };
  EXPECT_FALSE(daemon_saw_end(false));
  EXPECT_TRUE(daemon_saw_end(true));
}

TEST(PumpTest, ACommandThatLeavesBeforeItsInputEndsDoesNotWaitForStdin) {
  // stdin never ends (its writer keeps it open): the daemon's close ends the exec all the same.
  PairDaemon daemon([](int fd) {
    Send(fd, Frame(1, "bye\n"));
    ::shutdown(fd, SHUT_RDWR);
  });
  StdinPipe in("more input", /*keep_open=*/true);
  Sink sink;
  auto t0 = std::chrono::steady_clock::now();
  Status s = PumpExecStream(daemon.fd(), "", sink, WithStdin(in.fd()), Deadline::In(10s));
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.out, "bye\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(PumpTest, AStalledStreamMeetsTheDeadline) {
  std::atomic<bool> done{false};
  PairDaemon daemon([&](int fd) {
    Send(fd, Frame(1, "started\n"));
    while (!done) std::this_thread::sleep_for(10ms);
  });
  StdinPipe in("", /*keep_open=*/true);
  Sink sink;
  auto t0 = std::chrono::steady_clock::now();
  Status s = PumpExecStream(daemon.fd(), "", sink, WithStdin(in.fd()), Deadline::In(300ms));
  done = true;
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded) << s.message();
  EXPECT_EQ(sink.out, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(PumpTest, AClosedStdoutEndsTheStreamWithTheSinksRefusal) {
  std::atomic<bool> done{false};
  PairDaemon daemon([&](int fd) {
    for (int i = 0; i < 1000 && !done; ++i) Send(fd, Frame(1, "y\n"));
    while (!done) std::this_thread::sleep_for(10ms);
  });
  Sink sink;
  sink.refuse_after = 4;
  Status s = PumpExecStream(daemon.fd(), "", sink, {}, Deadline::In(10s));
  done = true;
  EXPECT_EQ(s.message(), "stdout was closed (broken pipe)");
}

TEST(PumpTest, AStreamCutInsideAFrameIsProtocol) {
  PairDaemon daemon([](int fd) { Send(fd, Frame(1, "0123456789").substr(0, 11)); });
  Sink sink;
  Status s = PumpExecStream(daemon.fd(), "", sink, {}, Deadline::In(10s));
  EXPECT_EQ(s.code(), Code::kProtocol);
  EXPECT_EQ(s.message(), "exec stream closed mid-frame (7 payload bytes missing)");
  EXPECT_EQ(sink.out, "012");
}

TEST(PumpTest, TheWakeDescriptorCallsBack) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  std::atomic<int> woken{0};
  PairDaemon daemon([&](int fd) {
    ASSERT_EQ(::write(p[1], "ab", 2), 2);  // two signals before the next poll: one call
    for (int i = 0; i < 200 && woken == 0; ++i) std::this_thread::sleep_for(10ms);
    Send(fd, Frame(1, fmt::format("woken {}", woken.load())));
  });
  PumpOptions o;
  o.wake_fd = p[0];
  o.on_wake = [&] { ++woken; };
  Sink sink;
  Status s = PumpExecStream(daemon.fd(), "", sink, o, Deadline::In(10s));
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.out, "woken 1");
  char c;
  EXPECT_EQ(::read(p[0], &c, 1), -1);  // drained
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace kmps::docker
