#include "config/config.h"

#include <algorithm>
#include <cstdlib>
#include <regex>

#include <fmt/core.h>
#include <fmt/format.h>

namespace kmps::config {

bool IsValidClusterName(const std::string& name) {
  static const std::regex re("^[a-z0-9.-]+$");
  return !name.empty() && std::regex_match(name, re);
}

ClusterConfig DefaultClusterConfig() {
  ClusterConfig c;
  const char* env = std::getenv("KIND_CLUSTER_NAME");
  c.name = (env != nullptr && *env != '\0') ? env : kDefaultClusterName;
  return c;
}


std::vector<std::string> NodeNames(const ClusterConfig& config) {
  std::vector<std::string> names = {config.name + "-control-plane"};
  for (int i = 1; i <= config.workers; ++i) {
    names.push_back(config.name + "-worker" + (i == 1 ? "" : std::to_string(i)));
  }
  return names;
}

std::string NodeRole(const ClusterConfig& config, const std::string& node_name) {
  return node_name == config.name + "-control-plane" ? "control-plane" : "worker";
}

bool IsGpuNode(const ClusterConfig& config, const std::string& node_name, const std::string& role) {
  if (config.gpu_nodes.empty()) return true;
  return std::any_of(config.gpu_nodes.begin(), config.gpu_nodes.end(),
                     [&](const std::string& g) { return g == node_name || g == role; });
}

Status ValidateClusterConfig(const ClusterConfig& config) {
  if (!IsValidClusterName(config.name)) {
    return InvalidArgument(fmt::format("cluster name \"{}\" is invalid: expected ^[a-z0-9.-]+$", config.name));
  }
  if (config.workers < 0 || config.workers > kMaxWorkers) {
    return InvalidArgument(fmt::format("workers: expected 0 to {}, got {}", kMaxWorkers, config.workers));
  }
  std::vector<std::string> nodes = NodeNames(config);
  for (const auto& g : config.gpu_nodes) {
    bool role = g == "control-plane" || (g == "worker" && config.workers > 0);
    if (!role && std::find(nodes.begin(), nodes.end(), g) == nodes.end()) {
      return InvalidArgument(fmt::format("gpuNodes: \"{}\" is no node or role of this cluster "
                                         "(nodes: {}; roles: control-plane, worker)",
                                         g, fmt::join(nodes, ", ")));
    }
  }
  return Status::Ok();
}


}  // namespace kmps::config
