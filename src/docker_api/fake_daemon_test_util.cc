#include "docker_api/fake_daemon_test_util.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

namespace kmps::docker::testing {

FakeDaemon::FakeDaemon(Handler handler) : handler_(std::move(handler)) {
  char tmpl[] = "/tmp/kmps-fake-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  path_ = dir_ + "/docker.sock";
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("bind/listen failed");
  }
  thread_ = std::thread([this] { Serve(); });
}

FakeDaemon::~FakeDaemon() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
  unlink(path_.c_str());
  rmdir(dir_.c_str());
}

std::vector<FakeRequest> FakeDaemon::requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
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

void FakeDaemon::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    workers_.emplace_back([this, fd] {
      ServeConnection(fd);
      close(fd);
    });
  }
  for (auto& w : workers_) w.join();
}

void FakeDaemon::ServeConnection(int fd) {
  std::string buf;
  char tmp[65536];
  while (!stop_) {
    // Read one request: headers, then Content-Length bytes of body.
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) {
        if (stop_) return;
        continue;
      }
      ssize_t n = read(fd, tmp, sizeof(tmp));
      if (n <= 0) return;
      buf.append(tmp, static_cast<size_t>(n));
    }
    std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);
    FakeRequest req;
    auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    req.method = head.substr(0, sp1);
    req.path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t len = 0;
    for (const char* key : {"\r\nContent-Length: ", "\r\ncontent-length: "}) {
      if (auto at = head.find(key); at != std::string::npos) len = std::stoul(head.substr(at + std::strlen(key)));
    }
    while (buf.size() < len) {
      ssize_t n = read(fd, tmp, sizeof(tmp));
      if (n <= 0) return;
      buf.append(tmp, static_cast<size_t>(n));
    }
    req.body = buf.substr(0, len);
    buf.erase(0, len);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    bool close_after = false;
    std::string reply = handler_(req, close_after);
    if (reply.find("Connection: close") != std::string::npos) close_after = true;
    size_t off = 0;
    while (off < reply.size()) {
      ssize_t n = send(fd, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
    if (close_after) return;
  }
}

}  // namespace kmps::docker::testing
