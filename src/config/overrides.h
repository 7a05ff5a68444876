// Command-line flags over kindmps.yaml, and the whole resolution `config` and `up` do.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "config/config.h"

namespace kmps::config {

// Command-line flags that override the file (unset = keep the file's value or the default).
struct ConfigOverrides {
  std::optional<std::string> name;         // --name
  std::optional<int> workers;              // --workers
  std::optional<std::string> image;        // --image
  std::optional<std::string> driver_root;  // --driver-root
  std::optional<std::string> dev_root;     // --dev-root
  std::optional<std::string> proc_root;    // --proc-root
  std::optional<std::string> gpus;         // --gpus (gpu_assignment.h's text form)
  std::optional<std::string> mps_daemons;  // --mps-daemons (per-node, per-gpu)
  std::optional<std::string> shm_size;     // --shm-size (for `up`)
  std::optional<std::string> kind_config;  // --kind-config (for `up`): read by LoadConfigWithOverrides
};

// Applies the flags, then ValidateClusterConfig. kInvalidArgument naming the flag.
Status ApplyOverrides(ClusterConfig& config, const ConfigOverrides& overrides);

// What `config` and `up` do: the file at `config_path` (empty: ./kindmps.yaml when it exists,
// else the defaults), then the overrides, then validation. The cluster name is resolved as kind
// resolves it: --name, else $KIND_CLUSTER_NAME, else the file's `name`, else kind.
StatusOr<ClusterConfig> LoadConfigWithOverrides(const std::string& config_path,
                                                const ConfigOverrides& overrides);

// The cluster `status`, `mps`, `down` and `pod` mean, found as `up` would find it: `flag`
// (-n/--name) when given, else $KIND_CLUSTER_NAME, else the `name` of the config file
// (`config_path`, else ./kindmps.yaml), else kind. Validated (ClusterNameProblem).
StatusOr<std::string> ResolveClusterName(const std::string& flag, const std::string& config_path);

}  // namespace kmps::config
