#include "docker_api/api_version.h"

#include <fmt/core.h>

#include "common/text.h"
#include "docker_api/docker_client.h"

namespace kmps::docker {
namespace {

bool ParseInt(std::string_view s, int& out) {
  if (s.size() > 6) return false;
  std::optional<int> v = ParseInteger<int>(s);
  if (v) out = *v;
  return v.has_value();
}

}  // namespace

std::optional<ApiVersionNumber> ParseApiVersion(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  ApiVersionNumber v;
  if (!ParseInt(text.substr(0, dot), v.major) || !ParseInt(text.substr(dot + 1), v.minor)) return std::nullopt;
  return v;
}

StatusOr<std::string> NegotiateApiVersion(std::string_view server_version, std::string_view where) {
  if (server_version.empty()) server_version = "1.24";
  auto server = ParseApiVersion(server_version);
  if (!server) {
    return ProtocolError(fmt::format("the Docker daemon at {} sent a malformed Api-Version header \"{}\"",
                                     where, server_version));
  }
  auto max = *ParseApiVersion(kClientMaxApiVersion);
  auto min = *ParseApiVersion(kClientMinApiVersion);
  if (*server < min) {
    return EnvironmentMissing(fmt::format(
        "the Docker daemon at {} speaks API {}, older than the oldest this client supports ({}); upgrade Docker",
        where, server_version, kClientMinApiVersion));
  }
  if (*server > max) return std::string(kClientMaxApiVersion);
  return std::string(server_version);
}

StatusOr<std::string> ValidatePinnedApiVersion(std::string_view pinned) {
  std::string_view v = pinned;
  if (v.starts_with('v')) v.remove_prefix(1);
  if (!ParseApiVersion(v)) {
    return InvalidArgument(fmt::format("DOCKER_API_VERSION \"{}\" is not a version like 1.41", pinned));
  }
  return std::string(v);
}

}  // namespace kmps::docker
