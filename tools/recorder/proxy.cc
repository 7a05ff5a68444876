#include "recorder/proxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <iostream>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "support/http_framing.h"

namespace kmps::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool FillAddr(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

std::string StripVersion(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() > 2 && path[0] == '/' && path[1] == 'v') {
    std::size_t slash = path.find('/', 1);
    if (slash != std::string_view::npos && path.substr(2, slash - 2).find_first_not_of("0123456789.") == std::string_view::npos) {
      path.remove_prefix(slash);
    }
  }
  return std::string(path);
}

}  // namespace

struct RecordingProxy::Pending {
  std::string method;
  std::string target;
  std::string body;
  std::string label;
  Clock::time_point sent;
};

RecordingProxy::RecordingProxy(ProxyOptions options, Scrubber scrubber)
    : options_(std::move(options)), scrubber_(std::move(scrubber)) {
  cassette_.description = options_.description;
}

std::size_t RecordingProxy::recorded() const {
  std::lock_guard lock(mu_);
  return cassette_.interactions.size();
}

void RecordingProxy::Record(Interaction it) {
  std::lock_guard lock(mu_);
  if (options_.scrub) {
    it.label = scrubber_.Scrub(it.label);
    it.path = scrubber_.Scrub(it.path);
    it.request_body = scrubber_.Scrub(it.request_body);
    it.response_raw = scrubber_.ScrubResponse(it.response_raw);
  }
  cassette_.interactions.push_back(std::move(it));
  Status s = SaveCassette(cassette_, options_.out);
  if (!s.ok()) std::cerr << "kmps-recorder: " << s.message() << "\n";
}

void RecordingProxy::ServeConnection(int client, const std::atomic<bool>& stop) {
  int upstream = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr;
  if (upstream < 0 || !FillAddr(options_.upstream_path, addr) ||
      ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::cerr << "kmps-recorder: cannot connect to upstream " << options_.upstream_path << ": "
              << std::strerror(errno) << "\n";
    if (upstream >= 0) ::close(upstream);
    ::close(client);
    return;
  }
  std::string req_buf, resp_buf;
  std::deque<Pending> pending;
  bool client_open = true, upstream_eof = false, parse = true;
  char chunk[65536];
  while (!upstream_eof && !stop.load()) {
    if (!client_open && pending.empty() && parse) break;  // client done, nothing outstanding
    pollfd fds[2] = {{client_open ? client : -1, POLLIN, 0}, {upstream, POLLIN, 0}};
    int n = ::poll(fds, 2, 200);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::recv(client, chunk, sizeof chunk, 0);
      if (got <= 0) {
        client_open = false;
        ::shutdown(upstream, SHUT_WR);
      } else {
        WriteAll(upstream, std::string_view(chunk, static_cast<std::size_t>(got)));
        if (parse) {
          req_buf.append(chunk, static_cast<std::size_t>(got));
          while (true) {
            Framing f = FrameRequest(req_buf);
            if (f.state == FrameState::kNeedMore) break;
            if (f.state == FrameState::kError) {
              std::cerr << "kmps-recorder: unparsable request, passing through: " << f.error << "\n";
              parse = false;
              break;
            }
            Pending p{f.head.method, f.head.target, DecodedBody(req_buf, f).value_or(""), "", Clock::now()};
            p.label = std::string(f.head.Get("X-Kmps-Label").value_or(""));
            if (p.label.empty()) p.label = p.method + " " + StripVersion(p.target);
            pending.push_back(std::move(p));
            req_buf.erase(0, f.total_len);
          }
        }
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::recv(upstream, chunk, sizeof chunk, 0);
      if (got <= 0) {
        upstream_eof = true;
      } else {
        if (client_open) WriteAll(client, std::string_view(chunk, static_cast<std::size_t>(got)));
        if (parse) resp_buf.append(chunk, static_cast<std::size_t>(got));
      }
    }
    while (parse && !pending.empty()) {
      Framing f = FrameResponse(resp_buf, pending.front().method, upstream_eof);
      if (f.state == FrameState::kNeedMore) break;
      if (f.state == FrameState::kError) {
        std::cerr << "kmps-recorder: unparsable response to " << pending.front().method << " "
                  << pending.front().target << ": " << f.error << "\n";
        parse = false;
        break;
      }
      if (f.head.status >= 100 && f.head.status < 200 && f.head.status != 101) {
        resp_buf.erase(0, f.total_len);  // interim (100 Continue): forwarded, not recorded
        continue;
      }
      Pending p = std::move(pending.front());
      pending.pop_front();
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - p.sent).count();
      Interaction it;
      it.label = p.label;
      it.method = p.method;
      it.path = p.target;
      it.request_body = std::move(p.body);
      it.status = f.head.status;
      it.response_raw = resp_buf.substr(0, f.total_len);
      it.elapsed_ms = std::round(ms * 100) / 100;
      resp_buf.erase(0, f.total_len);
      Record(std::move(it));
      if (f.head.status == 101) parse = false;  // hijacked: raw bytes both ways from now on
    }
  }
  if (parse && !pending.empty()) {
    std::cerr << "kmps-recorder: connection ended with " << pending.size()
              << " request(s) unanswered, first " << pending.front().method << " " << pending.front().target << "\n";
  }
  ::close(upstream);
  ::close(client);
}

Status RecordingProxy::Run(const std::atomic<bool>& stop) {
  sockaddr_un addr;
  if (!FillAddr(options_.listen_path, addr)) return InvalidArgument("listen path too long: " + options_.listen_path);
  ::unlink(options_.listen_path.c_str());
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 64) != 0) {
    std::string err = std::strerror(errno);
    if (listener >= 0) ::close(listener);
    return Failed("cannot listen on " + options_.listen_path + ": " + err);
  }
  {
    std::lock_guard lock(mu_);
    KMPS_RETURN_IF_ERROR(SaveCassette(cassette_, options_.out));  // an empty cassette at once
  }
  std::vector<std::thread> workers;
  while (!stop.load()) {
    pollfd pfd{listener, POLLIN, 0};
    int n = ::poll(&pfd, 1, 200);
    if (n <= 0) continue;
    int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    workers.emplace_back([this, client, &stop] { ServeConnection(client, stop); });
  }
  ::close(listener);
  ::unlink(options_.listen_path.c_str());
  for (auto& t : workers) t.join();
  std::lock_guard lock(mu_);
  return SaveCassette(cassette_, options_.out);
}

}  // namespace kmps::testing
