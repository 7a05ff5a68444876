#include "cluster/nodes.h"

#include <algorithm>

#include <fmt/core.h>

namespace kmps::cluster {

StatusOr<node::NodeList> ListClusterNodes(node::Provider& provider, const config::ClusterConfig& config) {
  KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, provider.ListNodes(config.name));
  for (auto& n : nodes) n->set_gpu(config::IsGpuNode(config, n->name(), n->info().role));
  return nodes;
}

StatusOr<bool> KindFinished(const node::NodeList& nodes) {
  auto control_plane = std::find_if(nodes.begin(), nodes.end(),
                                    [](const auto& n) { return n->info().role == "control-plane"; });
  if (control_plane == nodes.end()) return false;
  return (*control_plane)->PathExists(kKubeadmAdminConf);
}

StatusOr<std::vector<node::Node*>> SelectMpsTargets(const node::NodeList& nodes, const config::ClusterConfig& config,
                                                    const std::string& node, bool all) {
  if (all && !node.empty()) return InvalidArgument("--node and --all exclude each other");
  std::vector<node::Node*> targets;
  for (const auto& n : nodes) {
    if (!node.empty() ? n->name() == node : n->info().gpu) targets.push_back(n.get());
  }
  if (targets.empty()) {
    if (!node.empty()) return NotFound(fmt::format("no node {} in cluster {}", node, config.name));
    return Failed(fmt::format("cluster {} has no GPU node", config.name));
  }
  if (targets.size() > 1 && !all) {
    return InvalidArgument(fmt::format("cluster {} has {} GPU nodes: name one with --node, or use --all", config.name,
                                       targets.size()));
  }
  return targets;
}

}  // namespace kmps::cluster
