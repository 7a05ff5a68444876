#include "docker_api/endpoint.h"

#include <memory>
#include <new>
#include <optional>
#include <string>

#include <curl/curl.h>
#include <fmt/core.h>

#include "common/text.h"
#include "docker_api/docker_context.h"

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

Status Bad(std::string_view what, std::string_view value, std::string_view why) {
  return InvalidArgument(fmt::format("{} \"{}\": {}", what, TerminalSafe(value), why));
}

// One part of a parsed URL; nullopt when the URL has none.
std::optional<std::string> UrlPart(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, 0) != CURLUE_OK || text == nullptr) return std::nullopt;
  std::string out(text);
  curl_free(text);
  return out;
}

std::string_view UrlErrorText(CURLUcode rc) {
  switch (rc) {
    case CURLUE_NO_HOST: return "missing host";
    case CURLUE_BAD_PORT_NUMBER: return "the port is not a number from 1 to 65535";
    case CURLUE_BAD_IPV6: return "malformed IPv6 address";
    case CURLUE_BAD_HOSTNAME: return "malformed host name";
    default: return curl_url_strerror(rc);
  }
}

// tcp://host[:port][/], through libcurl's URL API. Checked here first, where curl is lenient: it
// reads tcp:///p as host p, and tcp://host: as no port at all.
StatusOr<Endpoint> ParseTcp(std::string_view value, std::string_view what) {
  std::string_view rest = value.substr(std::string_view("tcp://").size());
  if (rest.empty() || rest.front() == '/') return Bad(what, value, "missing host");
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.ends_with(':')) return Bad(what, value, "empty port");
  // curl decodes %XX in a host name after it has looked for an IPv4 address, so tcp://%31 would be
  // host "1" here and 0.0.0.1 to kind (a fuzz find). Only an IPv6 zone id may hold '%'.
  if (!authority.starts_with('[') && authority.find('%') != std::string_view::npos) {
    return Bad(what, value, UrlErrorText(CURLUE_BAD_HOSTNAME));
  }
  if (value.find('\0') != std::string_view::npos) return Bad(what, value, "a NUL byte in the host");
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (url == nullptr) throw std::bad_alloc();
  // PATH_AS_IS: "/./" stays a path (refused), not "/".
  CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, std::string(value).c_str(),
                              CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
  if (rc != CURLUE_OK) return Bad(what, value, UrlErrorText(rc));
  if (UrlPart(url.get(), CURLUPART_USER) || UrlPart(url.get(), CURLUPART_PASSWORD)) {
    return Bad(what, value, "a user name or password is not supported for tcp://");
  }
  if (UrlPart(url.get(), CURLUPART_QUERY) || UrlPart(url.get(), CURLUPART_FRAGMENT)) {
    return Bad(what, value, "a query or fragment is not supported for tcp://");
  }
  if (UrlPart(url.get(), CURLUPART_PATH).value_or("/").find_first_not_of('/') != std::string::npos) {
    return Bad(what, value, "a path is not supported for tcp://");
  }
  Endpoint e;
  e.kind = Endpoint::Kind::kTcp;
  e.host = UrlPart(url.get(), CURLUPART_HOST).value_or("");
  if (e.host.size() >= 2 && e.host.front() == '[') {  // [ipv6], its zone id apart
    e.host = e.host.substr(1, e.host.size() - 2);
    if (auto zone = UrlPart(url.get(), CURLUPART_ZONEID)) e.host += "%25" + *zone;
  } else if (e.host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
             std::string::npos) {
    // A name or an IPv4 address: curl would take other bytes (and decode %XX in them), so that
    // the DOCKER_HOST kind is given would name another host (a fuzz find).
    return Bad(what, value, UrlErrorText(CURLUE_BAD_HOSTNAME));
  }
  if (e.host.empty()) return Bad(what, value, "missing host");
  if (auto port = UrlPart(url.get(), CURLUPART_PORT)) {
    auto number = ParseInteger<int>(*port);
    if (!number || *number < 1 || *number > 65535) return Bad(what, value, UrlErrorText(CURLUE_BAD_PORT_NUMBER));
    e.port = *number;
  }
  return e;
}

}  // namespace

StatusOr<Endpoint> ParseEngineHost(std::string_view value, std::string_view what) {
  constexpr std::string_view kUnix = "unix://", kTcp = "tcp://";
  StatusOr<Endpoint> result = Bad(what, value, "unset");
  if (value.starts_with(kUnix)) {
    // A plain prefix: curl's URL API would read unix:///var/run/docker.sock as host "var" and
    // path "/run/docker.sock", and refuse a space or '%' in a path the kernel takes as it is.
    std::string_view path = value.substr(kUnix.size());
    if (path.empty()) return Bad(what, value, "missing socket path");
    if (path.front() != '/') return Bad(what, value, "the socket path must be absolute");
    Endpoint e;
    e.kind = Endpoint::Kind::kUnix;
    e.socket_path = std::string(path);
    result = std::move(e);
  } else if (value.starts_with(kTcp)) {
    result = ParseTcp(value, what);
  } else if (auto pos = value.find("://"); pos != std::string_view::npos) {
    return Bad(what, value,
               fmt::format("unsupported scheme \"{}://\" (kindmps-api supports unix:// and tcp://)",
                           TerminalSafe(value.substr(0, pos))));
  } else {
    return Bad(what, value, "expected unix:///path/to/docker.sock or tcp://host:port");
  }
  if (result.ok()) result->original = std::string(value);
  return result;
}

StatusOr<Endpoint> ParseDockerHost(std::string_view value) { return ParseEngineHost(value, "DOCKER_HOST"); }

StatusOr<Endpoint> EndpointFromEnvironment() { return ResolveEndpoint(EndpointEnvironment::OfProcess()); }

}  // namespace kmps::docker
