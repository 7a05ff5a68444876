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

// The saved settings of `cluster`, or `fallback` when `up` never ran here.
kind::ClusterConfig LoadStateOr(const std::string& cluster, kind::ClusterConfig fallback);

}  // namespace kmps::cluster
