// `kindmps-api status`: per node, whether it runs, /dev/shm's size, the MPS control daemon and
// servers (from the process table) and the pipe socket; healthy when every GPU node is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/node.h"
#include "cluster/nodes.h"
#include "common/status.h"
#include "kind/cluster_config.h"
#include "mps/mps_processes.h"

namespace kmps::cluster {

struct NodeStatus {
  NodeRef node;
  std::optional<uint64_t> shm_bytes;
  bool pipe_socket = false;
  mps::MpsProcesses mps;
  std::vector<std::string> problems;  // empty when healthy
  bool healthy() const { return problems.empty(); }
};

struct ClusterStatus {
  std::string cluster;
  std::vector<NodeStatus> nodes;
  std::vector<std::string> problems;  // cluster-wide (no nodes, ...)
  bool healthy() const;
  // Ok when healthy, else kFailed "cluster X is unhealthy: <its first problem>".
  Status AsStatus() const;
  nlohmann::json ToJson() const;
};

// Pure: the problems of one node given what was read from it.
std::vector<std::string> JudgeNode(const NodeStatus& status, const kind::ClusterConfig& config);

// Reads one node (a `top` and one exec).
NodeStatus ReadNodeStatus(Node& node, const NodeRef& ref, const kind::ClusterConfig& config);

// Reads every node of the cluster in parallel. Fails only when Docker cannot be asked at all.
StatusOr<ClusterStatus> CollectStatus(docker::DockerClient& client, const kind::ClusterConfig& config);

}  // namespace kmps::cluster
