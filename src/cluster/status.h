// `kindmps-api status`: per node, whether it runs, /dev/shm's size, the MPS control daemon and
// servers (from the process table) and the pipe socket; healthy when every GPU node is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/config.h"
#include "mps/mps_processes.h"
#include "node/node.h"

namespace kmps::cluster {

// What a node's MPS control daemon says of itself (read by status where a control socket is).
// Client PIDs are in the daemon's PID namespace: a client in a Pod (a PID namespace of its own)
// shows as 0 there, so a client cannot be traced back to its Pod from the daemon.
struct DaemonView {
  std::optional<std::string> default_threads;  // get_default_active_thread_percentage, e.g. "100.0"
  struct Server {
    int pid = 0;               // get_server_list (the node's PID namespace)
    std::vector<int> clients;  // get_client_list <pid>
  };
  std::vector<Server> servers;
  size_t client_count() const {
    size_t n = 0;
    for (const auto& s : servers) n += s.clients.size();
    return n;
  }
};

// Pure: one probe line ("threads 50.0", "server 452 0 0") into `view`; other lines are ignored.
void ParseDaemonLine(std::string_view line, DaemonView& view);

struct NodeStatus {
  node::NodeInfo node;
  std::optional<uint64_t> shm_bytes;
  bool pipe_socket = false;
  bool cdi_spec = false;       // kindmps's CDI spec is in the node (cdi_spec.h)
  bool device_plugin = false;  // and the kindmps device plugin is registered with kubelet
  mps::MpsProcesses mps;
  DaemonView daemon;
  std::vector<std::string> problems;  // empty when healthy
  bool healthy() const { return problems.empty(); }
  // How Pods reach MPS here: "cdi" (kindmps-api pod --access cdi: the spec and the plugin are
  // there), else "hostpath" (a hostPath volume of the pipe directory).
  std::string mps_access() const { return cdi_spec && device_plugin ? "cdi" : "hostpath"; }
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
std::vector<std::string> JudgeNode(const NodeStatus& status, const config::ClusterConfig& config);

// Reads one node, judged: a `top` and one exec, at the same time (the exec on a fork of `node`).
NodeStatus ReadNodeStatus(node::Node& node, const config::ClusterConfig& config);

// The status of `nodes` (GPU nodes marked), read in parallel.
ClusterStatus ReadClusterStatus(node::NodeList& nodes, const config::ClusterConfig& config);

// Lists the cluster's nodes and reads them. Fails only when the provider cannot be asked at all.
StatusOr<ClusterStatus> CollectStatus(node::Provider& provider, const config::ClusterConfig& config);

// Pure: the status of a cluster whose provider lists no nodes.
ClusterStatus NoNodesStatus(const config::ClusterConfig& config);

}  // namespace kmps::cluster
