// Pure: the JSON options of kmps_kind_config and kmps_cluster_up, read into the C++ configuration.
#pragma once

#include <string>

#include "common/status.h"
#include "config/config.h"

namespace kmps::capi {

// The name the options are given in error messages ("<options>:1:7: ...").
inline constexpr const char* kOptionsFile = "<options>";

struct UpRequest {
  config::ClusterConfig config;
  std::string kind = "kind";
  bool recreate = false;
};

// "<options>:LINE:COLUMN: invalid JSON: ..." for text that is not JSON, or not an object.
Status CheckJsonObject(const std::string& text);

// kindmps.yaml keys as a JSON object over the defaults, validated as a whole (cluster name,
// workers, gpuNodes) like the CLI's; "" means defaults.
StatusOr<config::ClusterConfig> ParseOptions(const std::string& text);

// ParseOptions plus the keys "kind" (string) and "recreate" (bool).
StatusOr<UpRequest> ParseUpOptions(const std::string& text);

}  // namespace kmps::capi
