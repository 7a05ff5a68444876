#include "docker_api/hijack.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "common/text.h"
#include "docker_api/http_errors.h"

namespace kmps::docker {

namespace {

constexpr size_t kMaxErrorBody = 64 << 10;

int PollMs(const Deadline& deadline) {
  auto ms = deadline.Remaining().count();
  return static_cast<int>(std::min<long long>(ms, 1000 * 60 * 60));
}

// Waits until `fd` is ready for `events` or `deadline` passes (false).
bool WaitFor(int fd, short events, const Deadline& deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, PollMs(deadline));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // an error: the caller's next call says which
    if (deadline.Expired()) return false;
  }
}

std::string Errno(int e) { return std::strerror(e); }

// A non-blocking socket connected to the endpoint.
StatusOr<std::unique_ptr<UniqueFd>> Connect(const Endpoint& ep, Deadline deadline) {
  std::string where = ep.Describe();
  auto finish = [&](int fd) -> Status {
    if (!WaitFor(fd, POLLOUT, deadline)) {
      return Unavailable(fmt::format("cannot connect to the Docker daemon at {}: timed out", where));
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return Unavailable(fmt::format("cannot connect to the Docker daemon at {}: {}", where, Errno(err)));
    return Status::Ok();
  };
  if (ep.kind == Endpoint::Kind::kUnix) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (ep.socket_path.size() >= sizeof addr.sun_path) {
      return InvalidArgument(fmt::format("the Docker socket path {} is too long", where));
    }
    std::memcpy(addr.sun_path, ep.socket_path.c_str(), ep.socket_path.size() + 1);
    auto fd = std::make_unique<UniqueFd>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd->get() < 0) return Failed(fmt::format("socket: {}", Errno(errno)));
    if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int e = errno;
      if (e == EACCES || e == EPERM) {
        return Status(Code::kPermissionDenied, fmt::format("permission denied on the Docker socket {}", where));
      }
      if (e != EINPROGRESS && e != EAGAIN) {
        return Unavailable(fmt::format("cannot connect to the Docker daemon at {}: {}", where, Errno(e)));
      }
      KMPS_RETURN_IF_ERROR(finish(fd->get()));
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(ep.port);
  if (int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Unavailable(fmt::format("cannot connect to the Docker daemon at {}: {}", where, ::gai_strerror(rc)));
  }
  Status last = Unavailable(fmt::format("cannot connect to the Docker daemon at {}: no address", where));
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    auto fd = std::make_unique<UniqueFd>(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd->get() < 0) continue;
    if (::connect(fd->get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = Unavailable(fmt::format("cannot connect to the Docker daemon at {}: {}", where, Errno(errno)));
        continue;
      }
      last = finish(fd->get());
      if (!last.ok()) continue;
    }
    ::freeaddrinfo(found);
    return fd;
  }
  ::freeaddrinfo(found);
  return last;
}

Status SendAll(int fd, std::string_view data, const Deadline& deadline, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return DeadlineExceeded(what + ": the deadline passed sending the request");
      continue;
    }
    return ProtocolError(fmt::format("{}: sending the request failed: {}", what, Errno(errno)));
  }
  return Status::Ok();
}

// Appends what the socket has to `buf`; false at the end of the stream. Waits by `deadline`.
StatusOr<bool> ReceiveSome(int fd, std::string& buf, const Deadline& deadline, const std::string& what) {
  char chunk[16 << 10];
  while (true) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return ProtocolError(fmt::format("{}: reading the reply failed: {}", what, Errno(errno)));
    }
    if (!WaitFor(fd, POLLIN, deadline)) return DeadlineExceeded(what + ": the deadline passed waiting for the reply");
  }
}

// The body of an error reply after its head (`rest`): by Content-Length, chunked, or to the
// connection's end; at most kMaxErrorBody bytes are kept.
std::string ErrorBody(int fd, const ResponseHead& head, std::string rest, const Deadline& deadline,
                      const std::string& what) {
  auto header = [&](const char* name) {
    auto it = head.headers.find(name);
    return it == head.headers.end() ? std::string() : AsciiLower(it->second);
  };
  std::string length = header("content-length");
  bool chunked = header("transfer-encoding").find("chunked") != std::string::npos;
  size_t want = kMaxErrorBody;
  if (!length.empty() && std::all_of(length.begin(), length.end(), ::isdigit) && length.size() < 10) {
    want = std::min<size_t>(std::stoul(length), kMaxErrorBody);
  }
  while (rest.size() < want && !(chunked && rest.find("\r\n0\r\n") != std::string::npos) &&
         !(chunked && rest.starts_with("0\r\n"))) {
    auto more = ReceiveSome(fd, rest, deadline, what);
    if (!more.ok() || !*more) break;
  }
  if (!chunked) return rest.substr(0, want);
  std::string body;
  size_t at = 0;
  while (at < rest.size()) {
    size_t eol = rest.find("\r\n", at);
    if (eol == std::string::npos) break;
    size_t size = std::strtoul(rest.substr(at, eol - at).c_str(), nullptr, 16);
    if (size == 0) break;
    body += rest.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return body;
}

}  // namespace

std::string HijackRequestText(const Endpoint& endpoint, std::string_view path, std::string_view body) {
  std::string host = endpoint.BaseUrl().substr(std::string_view("http://").size());
  return fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: kindmps-api\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{}",
      path, host, body.size(), body);
}

StatusOr<std::optional<ResponseHead>> ParseResponseHead(std::string_view data) {
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > kMaxHeadBytes) return ProtocolError("the daemon's reply head is longer than 64 KiB");
    return std::optional<ResponseHead>();
  }
  ResponseHead head;
  head.size = end + 4;
  std::string_view text = data.substr(0, end);
  size_t eol = text.find("\r\n");
  std::string_view status_line = text.substr(0, eol);
  // "HTTP/1.1 101 UPGRADED": three digits after the first space, then a space or the end.
  auto sp = status_line.find(' ');
  bool good = status_line.starts_with("HTTP/1.") && sp != std::string_view::npos && status_line.size() >= sp + 4;
  long code = 0;
  if (good) {
    for (char c : status_line.substr(sp + 1, 3)) {
      good = good && std::isdigit(static_cast<unsigned char>(c));
      code = code * 10 + (c - '0');
    }
    std::string_view after = status_line.substr(sp + 4);
    good = good && (after.empty() || after.front() == ' ') && code >= 100 && code <= 599;
  }
  if (!good) {
    return ProtocolError(fmt::format("malformed status line in the daemon's reply: {}", OneLine(std::string(
                                                                                           status_line.substr(0, 80)))));
  }
  head.status = code;
  while (eol != std::string_view::npos) {
    text.remove_prefix(eol + 2);
    eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    head.headers[AsciiLower(Trim(line.substr(0, colon)))] = std::string(Trim(line.substr(colon + 1)));
  }
  return std::optional<ResponseHead>(std::move(head));
}

StatusOr<HijackedConnection> Hijack(const Endpoint& endpoint, std::string_view path, std::string_view body,
                                    Deadline deadline, std::chrono::milliseconds connect_timeout,
                                    std::string_view context, bool& refused) {
  refused = false;
  std::string what = fmt::format("{}: POST {} on the Docker daemon at {}", context, path, endpoint.Describe());
  if (deadline.Expired()) return DeadlineExceeded(what + ": deadline already passed");
  KMPS_ASSIGN_OR_RETURN(std::unique_ptr<UniqueFd> fd, Connect(endpoint, deadline.Cap(connect_timeout)));
  KMPS_RETURN_IF_ERROR(SendAll(fd->get(), HijackRequestText(endpoint, path, body), deadline, what));
  std::string buf;
  std::optional<ResponseHead> head;
  while (true) {
    KMPS_ASSIGN_OR_RETURN(head, ParseResponseHead(buf));
    if (head.has_value()) break;
    KMPS_ASSIGN_OR_RETURN(bool more, ReceiveSome(fd->get(), buf, deadline, what));
    if (!more) return ProtocolError(what + ": the connection closed inside the response head");
  }
  std::string rest = buf.substr(head->size);
  if (head->status != 101 && head->status != 200) {
    refused = true;
    return HttpError(head->status, ErrorBody(fd->get(), *head, std::move(rest), deadline, what), context);
  }
  HijackedConnection c;
  c.fd = std::move(fd);
  c.early = std::move(rest);
  c.status = head->status;
  return c;
}

}  // namespace kmps::docker
