#include "docker_api/endpoint.h"

#include <cstdlib>
#include <string>

#include <fmt/core.h>

namespace kmps::docker {

std::string Endpoint::Describe() const {
  if (kind == Kind::kUnix) return socket_path;
  return fmt::format("tcp://{}:{}", host, port);
}

std::string Endpoint::BaseUrl() const {
  if (kind == Kind::kUnix) return "http://localhost";
  // IPv6 literals need brackets in a URL.
  if (host.find(':') != std::string::npos) return fmt::format("http://[{}]:{}", host, port);
  return fmt::format("http://{}:{}", host, port);
}

namespace {

Status Bad(std::string_view value, std::string_view why) {
  return InvalidArgument(fmt::format("DOCKER_HOST \"{}\": {}", value, why));
}

StatusOr<Endpoint> ParseTcp(std::string_view value, std::string_view rest) {
  // rest: host[:port][/]
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return Bad(value, "a path is not supported for tcp://");
  if (rest.empty()) return Bad(value, "missing host");
  Endpoint e;
  e.kind = Endpoint::Kind::kTcp;
  std::string_view host = rest, port;
  if (rest.front() == '[') {  // [ipv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return Bad(value, "unterminated '[' in host");
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(value, "expected ':' after ']'");
      port = after.substr(1);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return Bad(value, "empty port");
  }
  if (host.empty()) return Bad(value, "missing host");
  e.host = std::string(host);
  if (!port.empty()) {
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return Bad(value, fmt::format("port \"{}\" is not a number", port));
      p = p * 10 + (c - '0');
      if (p > 65535) break;
    }
    if (p <= 0 || p > 65535) return Bad(value, fmt::format("port \"{}\" is out of range", port));
    e.port = p;
  }
  return e;
}

}  // namespace

StatusOr<Endpoint> ParseDockerHost(std::string_view value) {
  constexpr std::string_view kUnix = "unix://", kTcp = "tcp://";
  StatusOr<Endpoint> result = Bad(value, "unset");
  if (value.starts_with(kUnix)) {
    std::string_view path = value.substr(kUnix.size());
    if (path.empty()) return Bad(value, "missing socket path");
    if (path.front() != '/') return Bad(value, "the socket path must be absolute");
    Endpoint e;
    e.kind = Endpoint::Kind::kUnix;
    e.socket_path = std::string(path);
    result = std::move(e);
  } else if (value.starts_with(kTcp)) {
    result = ParseTcp(value, value.substr(kTcp.size()));
  } else if (auto pos = value.find("://"); pos != std::string_view::npos) {
    return Bad(value, fmt::format("unsupported scheme \"{}://\" (kindmps-api supports unix:// and tcp://)",
                                  value.substr(0, pos)));
  } else {
    return Bad(value, "expected unix:///path/to/docker.sock or tcp://host:port");
  }
  if (result.ok()) result->original = std::string(value);
  return result;
}

StatusOr<Endpoint> EndpointFromEnvironment() {
  const char* env = std::getenv("DOCKER_HOST");
  if (env == nullptr || *env == '\0') return ParseDockerHost("unix:///var/run/docker.sock");
  return ParseDockerHost(env);
}

}  // namespace kmps::docker
