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

NodeStatus ReadNodeStatus(Node& node, const NodeRef& ref, const kind::ClusterConfig& config) {
  NodeStatus s;
  s.node = ref;
  if (!ref.running) {
    s.problems = JudgeNode(s, config);
    return s;
  }
  auto top = node.Top(mps::kTopPsArgs);
  if (top.ok()) {
    s.mps = mps::FindMpsProcesses(*top);
  } else {
    s.problems.push_back(fmt::format("node {}: cannot read processes: {}", ref.name, top.status().message()));
  }
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
    s.problems.push_back(fmt::format("node {}: cannot read /proc/mounts: {}", ref.name,
                                     r.ok() ? fmt::format("exit {}", r->exit_code) : r.status().message()));
  }
  auto judged = JudgeNode(s, config);
  s.problems.insert(s.problems.end(), judged.begin(), judged.end());
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
  status.nodes.resize(refs.size());
  auto results = ForEachParallel(client, refs.size(), [&](docker::DockerClient& c, size_t i) {
    DockerNode node(c, refs[i].name);
    status.nodes[i] = ReadNodeStatus(node, refs[i], config);
    return Status::Ok();
  });
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      status.nodes[i].node = refs[i];
      status.nodes[i].problems.push_back(results[i].message());
    }
  }
  // A daemon that cannot be reached at all is an environment problem, not an unhealthy cluster.
  return status;
}

}  // namespace kmps::cluster
