// `kindmps-api status`: per node, whether it runs, /dev/shm's size, the MPS control daemon and
// servers (from the process table) and the pipe socket; healthy when every GPU node is.
#pragma once

#include <cstdint>
#include <map>
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
// Client PIDs are in the daemon's PID namespace, the node's: a Pod's process is there (Pods' PID
// namespaces are children of the node's), and its cgroup names its container, which the node's
// CRI (crictl) names the Pod of. A client the daemon cannot see (a sibling PID namespace) is 0.
struct DaemonView {
  std::optional<std::string> default_threads;  // get_default_active_thread_percentage, e.g. "100.0"
  std::optional<int> refused_commands;         // control.log's refusals of quit and settings
  std::map<int, std::string> client_pods;      // client pid -> "namespace/pod", where found
  struct Server {
    int pid = 0;               // get_server_list (the node's PID namespace)
    std::vector<int> clients;  // get_client_list <pid>
  };
  std::vector<Server> servers;
  // Whether the daemon answered on the pipe directory's control socket.
  bool answered() const { return default_threads.has_value(); }
  size_t client_count() const {
    size_t n = 0;
    for (const auto& s : servers) n += s.clients.size();
    return n;
  }
};

// Pure: one probe line ("threads 50.0", "server 452 0 0", "refused 2") into `view`; other lines
// are ignored.
void ParseDaemonLine(std::string_view line, DaemonView& view);

// Pure: fills view.client_pods from the probe's "client PID CONTAINER-ID" lines and `crictl ps -o
// json` of the node (its containers' ids and Kubernetes labels). Text that is not that JSON
// leaves the map as it was.
void MapClientPods(const std::vector<std::pair<int, std::string>>& client_containers, std::string_view crictl_json,
                   DaemonView& view);

// One per-GPU daemon of a node (mps.daemons perGpu), read by its pipe directory.
struct GpuDaemonStatus {
  int gpu = -1;                // the device minor it serves
  std::string pipe_directory;  // config::GpuPipeDirectory
  // The control daemon whose CUDA_MPS_PIPE_DIRECTORY it is, as the node numbers it (read in the
  // node, like the daemon's own lists: the process table's PIDs are the host's).
  std::optional<int> pid;
  bool pipe_socket = false;
  DaemonView daemon;
};

struct NodeStatus {
  node::NodeInfo node;
  std::optional<uint64_t> shm_bytes;
  bool pipe_socket = false;
  bool cdi_spec = false;       // kindmps's CDI spec is in the node (cdi_spec.h)
  bool device_plugin = false;  // and the kindmps device plugin is registered with kubelet
  mps::MpsProcesses mps;
  DaemonView daemon;  // perNode: the node's daemon
  // perGpu: a daemon per GPU of the node, by minor (the node-wide pipe_socket and daemon are then
  // unused).
  std::vector<GpuDaemonStatus> gpu_daemons;
  // GPU nodes given GPUs of their own (gpus: not all): the device minors it was given, and the
  // /dev/nvidiaN it has (read by up); any other GPU in the node is a problem.
  std::optional<std::vector<int>> assigned_gpus;
  std::vector<int> gpus;
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
  std::vector<std::string> notes;     // true and worth knowing, not problems (SharedGpuNote)
  bool healthy() const;
  // Ok when healthy, else kFailed "cluster X is unhealthy: <its first problem>".
  Status AsStatus() const;
  nlohmann::json ToJson() const;
};

// Pure: the problems of one node given what was read from it: paused, stopped; for a GPU node a
// /dev/shm smaller than wanted, no control daemon, one without its control socket in the pipe
// directory or not answering there, no server (when one is wanted) or one the daemon does not list
// yet.
std::vector<std::string> JudgeNode(const NodeStatus& status, const config::ClusterConfig& config);

// Pure: what keeps the nodes named `nodes` from being the cluster `config` saved: each node of its
// shape that is missing, each one that is not of it.
std::vector<std::string> ShapeProblems(const std::vector<std::string>& nodes, const config::ClusterConfig& config);

// Reads one node, judged: a `top` and one exec, at the same time (the exec on a fork of `node`).
NodeStatus ReadNodeStatus(node::Node& node, const config::ClusterConfig& config);

// The status of `nodes` (GPU nodes marked), read in parallel.
ClusterStatus ReadClusterStatus(node::NodeList& nodes, const config::ClusterConfig& config);

// Lists the cluster's nodes and reads them. Fails only when the provider cannot be asked at all.
StatusOr<ClusterStatus> CollectStatus(node::Provider& provider, const config::ClusterConfig& config);

// Pure: the note for `gpu_nodes` GPU nodes of one host, each running its own MPS daemon: every
// node sees every GPU, so their MPS servers share them, and the GPU time-slices between servers
// (measured on an H200, docs/gpu-e2e.md). Empty for fewer than two.
std::string SharedGpuNote(size_t gpu_nodes);
// Pure: the device minors of the words after "gpus" in the node scripts' line "gpus 0 1 10"
// (the glob's /dev/nvidia[0-9]*), sorted: the glob puts nvidia10 before nvidia2.
std::vector<int> ParseGpuMinors(std::string_view words);

// Pure: where GPU nodes given GPUs of their own (gpus: not all) do not have them as given, read
// from their device nodes: a count other than given, a GPU given by minor that is missing, a GPU
// two nodes have. Added to those nodes' problems.
void GpuAssignmentProblems(ClusterStatus& status, const config::ClusterConfig& config);

// Pure: the status of a cluster whose provider lists no nodes.
ClusterStatus NoNodesStatus(const config::ClusterConfig& config);

}  // namespace kmps::cluster
