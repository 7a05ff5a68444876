// Per-cluster state kept by `up`: the generated kind config and the resolved settings, so that
// `status`, `mps` and `down` use the same pipe directory, shm size and GPU nodes.
// Directory: $KMPS_STATE_DIR/<cluster>, else $XDG_STATE_HOME/kindmps/<cluster>, else
// ~/.local/state/kindmps/<cluster>.
#pragma once

#include <string>

#include "common/status.h"
#include "config/config.h"

namespace kmps::cluster {

std::string StateDir(const std::string& cluster);

// Writes kind-config.yaml and kindmps.json into the state dir; returns the kind config's path.
// kindmps.json is JSON: `"apiVersion": "kindmps.dev/v1alpha1"`, `"kind": "ClusterState"` and the
// settings that outlive `up` (name, image, workers, gpuNodes, shmSize, shmBytes, mps).
StatusOr<std::string> SaveState(const config::ClusterConfig& config, const std::string& kind_config_yaml);

// The settings `up` saved for `cluster` (empty: the default name, $KIND_CLUSTER_NAME or
// workshop-dra), or the defaults under that name when `up` never ran here. The file is read
// strictly: invalid JSON (with line:column), another or no apiVersion or kind, a missing or
// unknown field, a value of the wrong type are kInvalidArgument naming the file and the field's
// JSON path and saying to run `kindmps-api up` again; never silently replaced by defaults.
StatusOr<config::ClusterConfig> LoadSavedConfig(const std::string& cluster);

}  // namespace kmps::cluster
