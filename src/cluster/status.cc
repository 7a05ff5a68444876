#include "cluster/status.h"

#include <fmt/core.h>

#include "cluster/shm.h"
#include "mps/mps_control.h"

namespace kmps::cluster {

namespace {
constexpr std::string_view kSeparator = "--kmps-pipe--\n";
// $1: the pipe directory. Prints /proc/mounts, a separator, and whether the control socket exists.
constexpr const char* kProbeScript = "cat /proc/mounts; printf -- '--kmps-pipe--\\n'; [ -S \"$1/control\" ] && echo socket; true";
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
                      {"mps", {{"control", control}, {"servers", servers}}},
                      {"healthy", n.healthy()},
                      {"problems", n.problems}});
  }
  return {{"cluster", cluster}, {"healthy", healthy()}, {"nodes", jnodes}, {"problems", problems}};
}

std::vector<std::string> JudgeNode(const NodeStatus& s, const kind::ClusterConfig& config) {
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

// The two reads of a running node, independent of each other so that CollectStatus can run them
// at the same time: the process table, and one exec for /proc/mounts and the pipe socket.
void ReadProcessesInto(Node& node, NodeStatus& s) {
  auto processes = mps::ReadProcesses(node);
  if (processes.ok()) {
    s.mps = *processes;
  } else {
    s.problems.push_back(
        fmt::format("node {}: cannot read processes: {}", s.node.name, processes.status().message()));
  }
}

void ReadProbeInto(Node& node, NodeStatus& s, const kind::ClusterConfig& config) {
  docker::ExecOptions probe;
  probe.cmd = {"sh", "-c", kProbeScript, "kmps-status", config.mps.pipe_directory};
  probe.timeout = std::chrono::seconds(20);
  auto r = node.Command(probe);
  if (r.ok() && r->exit_code == 0) {
    size_t sep = r->out.find(kSeparator);
    std::string_view mounts = std::string_view(r->out).substr(0, sep);
    s.shm_bytes = ParseShmBytes(mounts);
    s.pipe_socket = sep != std::string::npos && r->out.find("socket", sep + kSeparator.size()) != std::string::npos;
  } else {
    s.problems.push_back(fmt::format("node {}: cannot read /proc/mounts: {}", s.node.name,
                                     r.ok() ? fmt::format("exit {}", r->exit_code) : r.status().message()));
  }
}

void Judge(NodeStatus& s, const kind::ClusterConfig& config) {
  auto judged = JudgeNode(s, config);
  s.problems.insert(s.problems.end(), judged.begin(), judged.end());
}

}  // namespace

NodeStatus ReadNodeStatus(Node& node, const NodeRef& ref, const kind::ClusterConfig& config) {
  NodeStatus s;
  s.node = ref;
  if (ref.running) {
    ReadProcessesInto(node, s);
    ReadProbeInto(node, s, config);
  }
  Judge(s, config);
  return s;
}

StatusOr<ClusterStatus> CollectStatus(docker::DockerClient& client, const kind::ClusterConfig& config) {
  ClusterStatus status;
  status.cluster = config.name;
  KMPS_ASSIGN_OR_RETURN(std::vector<NodeRef> refs, ListNodes(client, config));
  if (refs.empty()) {
    status.problems.push_back(fmt::format("no node containers of cluster {} (label {}={})", config.name,
                                          kClusterLabel, config.name));
    return status;
  }
  // Both reads of every running node at once, each on its own connection: the slowest single
  // read, not the sum of a node's reads, sets the wall time.
  const size_t n = refs.size();
  status.nodes.resize(n);
  std::vector<NodeStatus> probes(n);
  for (size_t i = 0; i < n; ++i) status.nodes[i].node = probes[i].node = refs[i];
  auto results = ForEachParallel(client, 2 * n, [&](docker::DockerClient& c, size_t t) {
    size_t i = t % n;
    if (!refs[i].running) return Status::Ok();
    DockerNode node(c, refs[i].name);
    if (t < n) {
      ReadProcessesInto(node, status.nodes[i]);
    } else {
      ReadProbeInto(node, probes[i], config);
    }
    return Status::Ok();
  });
  for (size_t t = 0; t < results.size(); ++t) {
    if (!results[t].ok()) status.nodes[t % n].problems.push_back(results[t].message());
  }
  for (size_t i = 0; i < n; ++i) {
    NodeStatus& s = status.nodes[i];
    s.shm_bytes = probes[i].shm_bytes;
    s.pipe_socket = probes[i].pipe_socket;
    s.problems.insert(s.problems.end(), probes[i].problems.begin(), probes[i].problems.end());
    Judge(s, config);
  }
  return status;
}

}  // namespace kmps::cluster
