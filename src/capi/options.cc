#include "capi/options.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "config/decode.h"

namespace kmps::capi {
namespace {

StatusOr<nlohmann::json> ParseObject(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument(fmt::format("{}:{}", kOptionsFile, JsonParseErrorAt(text, e.byte, e.what())));
  } catch (const nlohmann::json::exception& e) {  // a number too large for a double (1e400), ...
    std::string_view what = e.what();
    return InvalidArgument(fmt::format("{}: invalid JSON: {}", kOptionsFile, what.substr(what.find("] ") + 2)));
  }
  if (!j.is_object()) {
    return InvalidArgument(fmt::format("{}:1:1: the options must be a JSON object, not {}", kOptionsFile, j.type_name()));
  }
  return j;
}

}  // namespace

Status CheckJsonObject(const std::string& text) {
  auto j = ParseObject(text);
  return j.ok() ? Status::Ok() : j.status();
}

StatusOr<config::ClusterConfig> ParseOptions(const std::string& text) {
  if (text.empty()) return config::DefaultClusterConfig();
  KMPS_RETURN_IF_ERROR(CheckJsonObject(text));
  KMPS_ASSIGN_OR_RETURN(config::ClusterConfig config,
                        config::ParseClusterConfig(text, kOptionsFile, config::TypeMeta::kOptional));
  KMPS_RETURN_IF_ERROR(config::ValidateClusterConfig(config).WithContext(kOptionsFile));
  KMPS_RETURN_IF_ERROR(config::ReadKindConfigFile(config));  // "kindConfig": a path, as in kindmps.yaml
  return config;
}

StatusOr<UpRequest> ParseUpOptions(const std::string& text) {
  UpRequest request;
  if (text.empty()) {
    request.config = config::DefaultClusterConfig();
    return request;
  }
  KMPS_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(text));
  bool extra = false;
  if (auto it = j.find("kind"); it != j.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) {
      return InvalidArgument(fmt::format("{}: \"kind\" must be a non-empty string (the kind binary)", kOptionsFile));
    }
    request.kind = it->get<std::string>();
    j.erase(it);
    extra = true;
  }
  if (auto it = j.find("recreate"); it != j.end()) {
    if (!it->is_boolean()) return InvalidArgument(fmt::format("{}: \"recreate\" must be true or false", kOptionsFile));
    request.recreate = it->get<bool>();
    j.erase(it);
    extra = true;
  }
  // Without the extra keys the text is given as is, so that positions in messages are the caller's.
  KMPS_ASSIGN_OR_RETURN(request.config, config::ParseClusterConfig(extra ? j.dump(2) : text, kOptionsFile,
                                                                config::TypeMeta::kOptional));
  KMPS_RETURN_IF_ERROR(config::ValidateClusterConfig(request.config).WithContext(kOptionsFile));
  KMPS_RETURN_IF_ERROR(config::ReadKindConfigFile(request.config));
  return request;
}

}  // namespace kmps::capi
