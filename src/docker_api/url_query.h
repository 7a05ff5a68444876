// Building Docker API paths and query strings (pure functions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kmps::docker {

// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(std::string_view s);

// Escapes regular-expression metacharacters so that `s` matches itself literally.
std::string RegexEscape(std::string_view s);

// The `filters` JSON of GET /containers/json: {"label":[...],"name":["^/?<escaped name>$"]};
// empty string when there is nothing to filter.
std::string ContainerFilters(const std::vector<std::string>& labels, std::string_view exact_name);

}  // namespace kmps::docker
