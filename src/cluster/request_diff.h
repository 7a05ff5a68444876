// `up` on a cluster that exists: what its request changes against the settings the cluster was
// made with (the saved state), split into what `up` applies to the running nodes and what only
// recreating the cluster can change.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace kmps::cluster {

struct RequestDiff {
  // Applied live by preparing the nodes again: a /dev/shm size, startServer, the MPS settings
  // set or changed (each "shmSize 8g -> 16g").
  std::vector<std::string> live;
  // Fixed at creation (the nodes, their image and mounts, the pipe and log directories, the
  // server's uid) or not undoable live (an MPS setting removed): each "workers 1 -> 2".
  std::vector<std::string> fixed;
};

// Pure: `request` against `saved`; `saved_kind_config` and `request_kind_config` are the kind
// configs each renders (the mounts and patches the state file does not hold): when they differ
// and no field above says why, fixed names the first line that does. An empty saved kind config is not compared.
RequestDiff DiffRequest(const config::ClusterConfig& saved, const config::ClusterConfig& request,
                        const std::string& saved_kind_config, const std::string& request_kind_config);

}  // namespace kmps::cluster
