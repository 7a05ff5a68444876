#include "support/replay_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "support/http_framing.h"

namespace kmps::testing {
namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsPing(std::string_view method, std::string_view normalized) {
  return (method == "GET" || method == "HEAD") && normalized == "/_ping";
}

}  // namespace

std::string ReplayServer::NormalizeTarget(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = target.size() > path.size() ? target.substr(path.size()) : std::string_view();
  static const std::regex kVersion(R"(^/v[0-9]+(\.[0-9]+)?(?=/))");
  std::string normalized = std::regex_replace(std::string(path), kVersion, "", std::regex_constants::format_first_only);
  return normalized + PercentDecode(query);
}

ReplayServer::ReplayServer(Cassette cassette, ReplayOptions options)
    : options_(std::move(options)), cassette_(std::move(cassette)), used_(cassette_.interactions.size(), false) {}

ReplayServer::ReplayServer(Handler handler, ReplayOptions options)
    : options_(std::move(options)), handler_(std::move(handler)) {}

ReplayServer::~ReplayServer() { Stop(); }

Status ReplayServer::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  {
    std::lock_guard lock(mu_);
    if (started_) return Failed("replay server already started on " + socket_path_);
  }
  std::filesystem::path dir = options_.socket_dir;
  bool own_dir = false;
  if (dir.empty()) {
    char tmpl[] = "/tmp/kmps-replay-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Failed(std::string("replay: mkdtemp failed: ") + std::strerror(errno));
    dir = tmpl;
    own_dir = true;
  }
  std::string path = (dir / "docker.sock").string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return InvalidArgument("replay: socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed(std::string("replay: socket: ") + std::strerror(errno));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    if (own_dir) ::rmdir(dir.c_str());
    return Failed("replay: cannot listen on " + path + ": " + err);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    if (own_dir) ::rmdir(dir.c_str());
    return Failed(std::string("replay: pipe: ") + std::strerror(errno));
  }
  {
    std::lock_guard lock(mu_);
    dir_ = dir;
    own_dir_ = own_dir;
    socket_path_ = path;
    listen_fd_ = fd;
    wake_pipe_[0] = pipe_fds[0];
    wake_pipe_[1] = pipe_fds[1];
    started_ = true;
    stopping_ = false;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void ReplayServer::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  char b = 'x';
  [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &b, 1);
  if (acceptor_.joinable()) acceptor_.join();
  // No new workers can appear now.
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
  ::unlink(socket_path_.c_str());
  if (own_dir_) ::rmdir(dir_.c_str());
  std::lock_guard lock(mu_);
  listen_fd_ = wake_pipe_[0] = wake_pipe_[1] = -1;
  started_ = false;
}

std::string ReplayServer::socket_path() const {
  std::lock_guard lock(mu_);
  return socket_path_;
}

Status ReplayServer::InjectFault(std::string_view label, Fault fault) {
  std::lock_guard lock(mu_);
  bool found = false;
  for (std::size_t i = 0; i < cassette_.interactions.size(); ++i) {
    if (cassette_.interactions[i].label == label) {
      faults_[i] = fault;
      found = true;
    }
  }
  if (!found) return NotFound("replay: no interaction labelled " + std::string(label));
  return Status::Ok();
}

Status ReplayServer::InjectFaultAt(std::size_t index, Fault fault) {
  std::lock_guard lock(mu_);
  if (index >= cassette_.interactions.size()) {
    return NotFound("replay: no interaction " + std::to_string(index) + " (cassette has " +
                    std::to_string(cassette_.interactions.size()) + ")");
  }
  faults_[index] = fault;
  return Status::Ok();
}

std::vector<std::string> ReplayServer::misses() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : requests_) {
    if (r.miss) out.push_back(r.method + " " + r.target);
  }
  return out;
}

std::vector<std::string> ReplayServer::unused() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < used_.size(); ++i) {
    if (used_[i]) continue;
    const auto& it = cassette_.interactions[i];
    out.push_back(it.label.empty() ? it.method + " " + it.path : it.label);
  }
  return out;
}

std::vector<ReceivedRequest> ReplayServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t ReplayServer::connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

ReplayServer::Reply ReplayServer::Answer(const std::string& method, const std::string& target,
                                         const std::string& body) {
  if (handler_) return AnswerWithHandler(method, target, body);
  std::string want = NormalizeTarget(target);
  std::lock_guard lock(mu_);
  ReceivedRequest rec{method, target, body, "", false};
  Reply reply;
  for (std::size_t i = 0; i < cassette_.interactions.size(); ++i) {
    const Interaction& it = cassette_.interactions[i];
    if (used_[i] || it.method != method || NormalizeTarget(it.path) != want) continue;
    used_[i] = true;
    rec.label = it.label.empty() ? it.method + " " + it.path : it.label;
    requests_.push_back(std::move(rec));
    reply.bytes = it.response_raw;
    Framing f = FrameResponse(reply.bytes, method, /*eof=*/true);
    reply.close = ResponseClosesConnection(f);
    reply.head_len = f.head_len;
    if (auto fault = faults_.find(i); fault != faults_.end()) reply.fault = fault->second;
    return reply;
  }
  if (options_.synthesize_ping && IsPing(method, want)) {
    rec.label = "(synthetic ping)";
    requests_.push_back(std::move(rec));
    std::string head = "HTTP/1.1 200 OK\r\nApi-Version: " + options_.ping_api_version +
                       "\r\nCache-Control: no-cache, no-store, must-revalidate\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\nDocker-Experimental: false\r\n"
                       "Ostype: linux\r\nPragma: no-cache\r\nServer: kmps-replay\r\nContent-Length: 2\r\n\r\n";
    reply.head_len = head.size();
    reply.bytes = head + (method == "HEAD" ? "" : "OK");
    return reply;
  }
  std::string message = "replay: no recorded interaction for " + method + " " + target;
  rec.miss = true;
  requests_.push_back(std::move(rec));
  std::string json = nlohmann::json{{"message", message}}.dump() + "\n";
  std::string head = "HTTP/1.1 " + std::to_string(options_.miss_status) +
                     " Replay Miss\r\nApi-Version: " + options_.ping_api_version +
                     "\r\nContent-Type: application/json\r\nServer: kmps-replay\r\nContent-Length: " +
                     std::to_string(json.size()) + "\r\n\r\n";
  reply.head_len = head.size();
  reply.bytes = head + (method == "HEAD" ? "" : json);
  return reply;
}

ReplayServer::Reply ReplayServer::AnswerWithHandler(const std::string& method, const std::string& target,
                                                    const std::string& body) {
  ReceivedRequest rec{method, target, body, "(handler)", false};
  {
    std::lock_guard lock(mu_);
    requests_.push_back(rec);
  }
  Reply reply;
  reply.bytes = handler_(rec, reply.close);  // unlocked: the handler may take its time
  Framing f = FrameResponse(reply.bytes, method, /*eof=*/true);
  reply.close = reply.close || ResponseClosesConnection(f);
  reply.head_len = f.head_len;
  return reply;
}

void ReplayServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents != 0)) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    ++connections_;
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { ServeConnection(fd); });
  }
}

bool ReplayServer::Sleep(std::chrono::milliseconds t) {
  std::unique_lock lock(mu_);
  if (t.count() <= 0) {
    cv_.wait(lock, [this] { return stopping_; });
  } else {
    cv_.wait_for(lock, t, [this] { return stopping_; });
  }
  return !stopping_;
}

void ReplayServer::ServeConnection(int fd) {
  std::string buf;
  char chunk[16384];
  bool sent_continue = false;
  while (true) {
    Framing req = FrameRequest(buf);
    if (req.state == FrameState::kError) break;
    if (req.state == FrameState::kNeedMore) {
      if (req.head_len > 0 && !sent_continue && req.head.HasToken("Expect", "100-continue")) {
        sent_continue = true;
        if (!WriteAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) break;
      }
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buf.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    std::string body = DecodedBody(buf, req).value_or("");
    buf.erase(0, req.total_len);
    sent_continue = false;
    Reply reply = Answer(req.head.method, req.head.target, body);
    std::string_view bytes = reply.bytes;
    bool ok = true;
    switch (reply.fault.kind) {
      case Fault::Kind::kNone:
        ok = WriteAll(fd, bytes);
        break;
      case Fault::Kind::kTruncate:
        WriteAll(fd, bytes.substr(0, std::min(reply.fault.bytes, bytes.size())));
        ok = false;
        break;
      case Fault::Kind::kCloseMidStream:
        WriteAll(fd, bytes.substr(0, std::min(reply.head_len + reply.fault.bytes, bytes.size())));
        ok = false;
        break;
      case Fault::Kind::kStallBeforeResponse:
        ok = Sleep(reply.fault.stall) && WriteAll(fd, bytes);
        break;
      case Fault::Kind::kStallAfterHeaders:
        ok = WriteAll(fd, bytes.substr(0, reply.head_len)) && Sleep(reply.fault.stall) &&
             WriteAll(fd, bytes.substr(reply.head_len));
        break;
      case Fault::Kind::kStallMidStream: {
        std::size_t first = std::min(reply.head_len + reply.fault.bytes, bytes.size());
        ok = WriteAll(fd, bytes.substr(0, first)) && Sleep(reply.fault.stall) && WriteAll(fd, bytes.substr(first));
        break;
      }
    }
    if (!ok || reply.close) break;
  }
  // An end of stream, not a reset: closing with the client's bytes unread (an exec's stdin) would
  // reset the connection, and the client could see that before the last reply. So the write side
  // is shut first and what the client still sends is read away (for at most 1 s).
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  for (pollfd p{fd, POLLIN, 0}; ::poll(&p, 1, 1000) == 1 && ::read(fd, sink, sizeof sink) > 0;) {
  }
  std::lock_guard lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

FakeDaemon::FakeDaemon(Handler handler)
    : server_([handler = std::move(handler)](const ReceivedRequest& r, bool& close_after) {
        return handler(FakeRequest{r.method, r.target, r.body}, close_after);
      }) {
  if (Status s = server_.Start(); !s.ok()) throw std::runtime_error(s.message());
}

std::vector<FakeRequest> FakeDaemon::requests() const {
  std::vector<FakeRequest> out;
  for (const ReceivedRequest& r : server_.requests()) out.push_back({r.method, r.target, r.body});
  return out;
}

std::string FakeDaemon::Reply(int status, std::string_view body, std::string_view extra_headers, bool keep_alive) {
  return fmt::format("HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}{}\r\n{}", status,
                     body.size(), extra_headers, keep_alive ? "" : "Connection: close\r\n", body);
}

std::string FakeDaemon::Chunked(int status, const std::vector<std::string>& chunks) {
  std::string r = fmt::format("HTTP/1.1 {} X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                              status);
  for (const auto& c : chunks) r += fmt::format("{:x}\r\n{}\r\n", c.size(), c);
  return r + "0\r\n\r\n";
}

}  // namespace kmps::testing
