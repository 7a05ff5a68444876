// Per-cluster state kept by `up`: the generated kind config and the resolved settings, so that
// `status`, `mps` and `down` use the same pipe directory, shm size and GPU nodes.
// Directory: $KMPS_STATE_DIR/<cluster>, else $XDG_STATE_HOME/kindmps/<cluster>, else
// ~/.local/state/kindmps/<cluster>.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kind/cluster_config.h"

namespace kmps::cluster {

std::string StateDir(const std::string& cluster);

// The settings that outlive `up` (name, shm, gpu nodes, MPS), as JSON and back.
nlohmann::json SettingsToJson(const kind::ClusterConfig& config);
StatusOr<kind::ClusterConfig> SettingsFromJson(const nlohmann::json& j);

// Writes kind-config.yaml and kindmps.json into the state dir; returns the kind config's path.
StatusOr<std::string> SaveState(const kind::ClusterConfig& config, const std::string& kind_config_yaml);

// The settings `up` saved for `cluster` (empty: the default name, $KIND_CLUSTER_NAME or
// workshop-dra), or the defaults under that name when `up` never ran here. A saved file that
// cannot be read is kInvalidArgument naming it, never silently replaced by defaults.
StatusOr<kind::ClusterConfig> LoadSavedConfig(const std::string& cluster);

}  // namespace kmps::cluster
