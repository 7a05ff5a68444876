// Per-cluster state kept by `up`: the generated kind config and the resolved settings, so that
// `status`, `mps` and `down` use the same pipe directory, shm size and GPU nodes.
// Directory: $KMPS_STATE_DIR/<cluster>, else $XDG_STATE_HOME/kindmps/<cluster>, else
// ~/.local/state/kindmps/<cluster>.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "common/status.h"
#include "config/config.h"

namespace kmps::cluster {

// Where the state of `cluster` lives; the name must be valid (config::ClusterNameProblem), which
// keeps it inside the state root.
std::string StateDir(const std::string& cluster);

// The largest state file read: checked before it is read.
inline constexpr size_t kMaxStateFileBytes = 1 << 20;

// Where SaveKindConfig writes: <state dir>/kind-config.yaml.
std::string KindConfigPath(const std::string& cluster);

// Writes the kind config `up` passes to kind into the state dir (made if need be); returns its
// path.
StatusOr<std::string> SaveKindConfig(const std::string& cluster, const std::string& kind_config_yaml);

// Writes kindmps.json into the state dir, atomically: JSON with `"apiVersion":
// "kindmps.dev/v1alpha1"`, `"kind": "ClusterState"` and the settings that outlive `up` (name,
// image, workers, gpuNodes, shmSize, shmBytes, mps). `up` writes it once what it says is true.
Status SaveState(const config::ClusterConfig& config);

// The settings `up` saved for `cluster` (its name checked first: kInvalidArgument for an invalid
// one), nullopt when `up` never saved any here. The file is read strictly (ReadRegularFile): a
// directory, a dangling link, a FIFO or an unreadable file where it should be, invalid JSON (with
// line:column), another or no apiVersion or kind, a missing or unknown field, a value of the
// wrong type are kInvalidArgument naming the file and the field's JSON path and saying what to
// do; never silently replaced by defaults, never a hang.
StatusOr<std::optional<config::ClusterConfig>> FindSavedConfig(const std::string& cluster);

// FindSavedConfig for `cluster` (empty: the default name, $KIND_CLUSTER_NAME or kind),
// or the defaults under that name when `up` never saved any here.
StatusOr<config::ClusterConfig> LoadSavedConfig(const std::string& cluster);

// Removes the state dir of `cluster` and what it holds; Ok when there is none.
Status RemoveState(const std::string& cluster);

}  // namespace kmps::cluster
