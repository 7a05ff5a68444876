// JSON documents as text, without exceptions: nlohmann's dump() throws on a string that is not
// UTF-8 (a node name, a path, a daemon's reply can hold any bytes).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace kmps {

// For output and files kindmps-api writes: bytes that are not UTF-8 become U+FFFD.
inline std::string JsonText(const nlohmann::json& j, int indent = 2) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// For a request whose bytes must arrive as they are (a command's argv): kInvalidArgument naming
// `what` when a string of `j` is not UTF-8, which JSON cannot carry.
inline StatusOr<std::string> StrictJsonText(const nlohmann::json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::type_error&) {
    return InvalidArgument(std::string(what) + " holds bytes that are not UTF-8, which the Docker API cannot carry");
  }
}

}  // namespace kmps
