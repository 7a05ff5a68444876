// Docker Engine API versions ("1.41"): parsing, comparison and negotiation (pure functions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kmps::docker {

struct ApiVersionNumber {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ApiVersionNumber&) const = default;
};

// "1.41" -> {1, 41}; anything else -> nullopt.
std::optional<ApiVersionNumber> ParseApiVersion(std::string_view text);

// The version to use with a daemon whose /_ping said `server_version` (its Api-Version header;
// empty when absent, which means an old daemon: 1.24 as the Go client assumes):
// min(server, kClientMaxApiVersion). A daemon older than kClientMinApiVersion is kEnvironment,
// a malformed header kProtocol. `where` names the daemon in messages.
StatusOr<std::string> NegotiateApiVersion(std::string_view server_version, std::string_view where);

// Checks a pinned version (DOCKER_API_VERSION / ClientOptions::api_version): kInvalidArgument
// unless it reads MAJOR.MINOR. Returns it without a leading 'v'.
StatusOr<std::string> ValidatePinnedApiVersion(std::string_view pinned);

}  // namespace kmps::docker
