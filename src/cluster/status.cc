#include "cluster/status.h"

#include <fmt/core.h>

#include "cluster/cdi_spec.h"
#include "cluster/nodes.h"
#include "cluster/shm.h"
#include "common/text.h"
#include "node/docker_node.h"
#include "mps/mps_control.h"

namespace kmps::cluster {

namespace {
constexpr std::string_view kSeparator = "--kmps-pipe--\n";
// $1: the pipe directory, $2 the CDI spec, $3 the device plugin's socket. Prints /proc/mounts, a
// separator, then a line each for what exists: the control socket, the spec, the plugin.
constexpr const char* kProbeScript =
    "cat /proc/mounts; printf -- '--kmps-pipe--\\n'; [ -S \"$1/control\" ] && echo socket; "
    "[ -f \"$2\" ] && echo cdi; [ -S \"$3\" ] && echo plugin; true";
}  // namespace

bool ClusterStatus::healthy() const {
  if (!problems.empty() || nodes.empty()) return false;
  for (const auto& n : nodes) {
    if (!n.healthy()) return false;
  }
  return true;
}

Status ClusterStatus::AsStatus() const {
  if (healthy()) return Status::Ok();
  std::string first = problems.empty() ? "" : problems.front();
  for (const auto& n : nodes) {
    if (first.empty() && !n.problems.empty()) first = n.problems.front();
  }
  return Failed(fmt::format("cluster {} is unhealthy: {}", cluster, first.empty() ? "no nodes" : first));
}

nlohmann::json ClusterStatus::ToJson() const {
  nlohmann::json jnodes = nlohmann::json::array();
  for (const auto& n : nodes) {
    nlohmann::json servers = nlohmann::json::array();
    for (const auto& s : n.mps.servers) servers.push_back({{"pid", s.pid}, {"ppid", s.ppid}});
    nlohmann::json control = {{"running", n.mps.control.has_value()}};
    control["pid"] = n.mps.control ? nlohmann::json(n.mps.control->pid) : nlohmann::json(nullptr);
    jnodes.push_back({{"name", n.node.name},
                      {"role", n.node.role},
                      {"running", n.node.running},
                      {"gpu", n.node.gpu},
                      {"shmBytes", n.shm_bytes ? nlohmann::json(*n.shm_bytes) : nlohmann::json(nullptr)},
                      {"pipeSocket", n.pipe_socket},
                      {"mpsAccess", n.node.gpu ? nlohmann::json(n.mps_access()) : nlohmann::json(nullptr)},
                      {"mps", {{"control", control}, {"servers", servers}}},
                      {"healthy", n.healthy()},
                      {"problems", n.problems}});
  }
  return {{"cluster", cluster}, {"healthy", healthy()}, {"nodes", jnodes}, {"problems", problems}};
}

std::vector<std::string> JudgeNode(const NodeStatus& s, const config::ClusterConfig& config) {
  std::vector<std::string> problems;
  if (!s.node.running) {
    problems.push_back(fmt::format("node {} is not running", s.node.name));
    return problems;
  }
  if (!s.node.gpu) return problems;
  if (!s.shm_bytes) {
    problems.push_back(fmt::format("node {}: /dev/shm size unknown", s.node.name));
  } else if (*s.shm_bytes < config.shm_bytes) {
    problems.push_back(fmt::format("node {}: /dev/shm is {} bytes, wanted {} ({})", s.node.name, *s.shm_bytes,
                                   config.shm_bytes, config.shm_size));
  }
  if (!s.mps.control) {
    problems.push_back(fmt::format("node {}: no MPS control daemon runs", s.node.name));
  } else if (config.mps.start_server && s.mps.servers.empty()) {
    problems.push_back(fmt::format("node {}: no MPS server runs", s.node.name));
  }
  return problems;
}

namespace {

// The two reads of a running node, independent of each other so that they can run at the same
// time: the process table, and one exec for /proc/mounts and the pipe socket.
void ReadProcessesInto(node::Node& node, NodeStatus& s) {
  auto processes = mps::ReadProcesses(node);
  if (processes.ok()) {
    s.mps = *processes;
  } else {
    s.problems.push_back(
        fmt::format("node {}: cannot read processes: {}", s.node.name, processes.status().message()));
  }
}

void ReadProbeInto(node::Node& node, NodeStatus& s, const config::ClusterConfig& config) {
  node::Command probe;
  probe.argv = {"sh", "-c", kProbeScript, "kmps-status", config.mps.pipe_directory, kCdiSpecPath, kDevicePluginSocket};
  probe.timeout = std::chrono::seconds(20);
  auto r = node.Run(probe);
  if (r.ok() && r->exit_code == 0) {
    size_t sep = r->out.find(kSeparator);
    std::string_view mounts = std::string_view(r->out).substr(0, sep);
    s.shm_bytes = ParseShmBytes(mounts);
    if (sep != std::string::npos) {
      ForEachLine(std::string_view(r->out).substr(sep + kSeparator.size()), [&](std::string_view line) {
        if (line == "socket") s.pipe_socket = true;
        if (line == "cdi") s.cdi_spec = true;
        if (line == "plugin") s.device_plugin = true;
      });
    }
  } else {
    s.problems.push_back(fmt::format("node {}: cannot read /proc/mounts: {}", s.node.name,
                                     r.ok() ? fmt::format("exit {}", r->exit_code) : r.status().message()));
  }
}

}  // namespace

NodeStatus ReadNodeStatus(node::Node& node, const config::ClusterConfig& config) {
  NodeStatus s;
  s.node = node.info();
  if (s.node.running) {
    // The exec on a connection of its own, beside the `top`: the slower read sets the time.
    NodeStatus probe;
    probe.node = s.node;
    auto fork = node.Fork();
    if (!fork.ok()) {
      s.problems.push_back(fmt::format("node {}: {}", s.node.name, fork.status().message()));
    } else {
      auto both = node::ParallelFor(2, [&](size_t i) {
        if (i == 0) {
          ReadProcessesInto(node, s);
        } else {
          ReadProbeInto(**fork, probe, config);
        }
        return Status::Ok();
      });
      s.shm_bytes = probe.shm_bytes;
      s.pipe_socket = probe.pipe_socket;
      s.cdi_spec = probe.cdi_spec;
      s.device_plugin = probe.device_plugin;
      s.problems.insert(s.problems.end(), probe.problems.begin(), probe.problems.end());
    }
  }
  auto judged = JudgeNode(s, config);
  s.problems.insert(s.problems.end(), judged.begin(), judged.end());
  return s;
}

ClusterStatus NoNodesStatus(const config::ClusterConfig& config) {
  ClusterStatus status;
  status.cluster = config.name;
  status.problems.push_back(fmt::format("no node containers of cluster {} (label {}={})", config.name,
                                        node::kClusterLabel, config.name));
  return status;
}

ClusterStatus ReadClusterStatus(node::NodeList& nodes, const config::ClusterConfig& config) {
  if (nodes.empty()) return NoNodesStatus(config);
  ClusterStatus status;
  status.cluster = config.name;
  status.nodes.resize(nodes.size());
  node::ParallelFor(nodes.size(), [&](size_t i) {
    status.nodes[i] = ReadNodeStatus(*nodes[i], config);
    return Status::Ok();
  });
  return status;
}

StatusOr<ClusterStatus> CollectStatus(node::Provider& provider, const config::ClusterConfig& config) {
  KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, ListClusterNodes(provider, config));
  return ReadClusterStatus(nodes, config);
}

}  // namespace kmps::cluster
