#include "cluster/nodes.h"

#include <algorithm>
#include <chrono>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"

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

namespace {

// One line per control daemon of the node: "daemon " and its CUDA_VISIBLE_DEVICES ("" when unset).
constexpr const char* kDaemonDevicesScript =
    R"sh(for p in /proc/[0-9]*; do [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] &&
  echo "daemon $(tr '\0' '\n' <"$p/environ" 2>/dev/null | sed -n 's/^CUDA_VISIBLE_DEVICES=//p')"; done; exit 0)sh";

// Whether node `n` has GPU `gpu`: a minor, its device node; a UUID, a daemon whose
// CUDA_VISIBLE_DEVICES names it (case aside, as CUDA reads it) or is unset (every GPU of the
// node; a node without a daemon serves none).
StatusOr<bool> ServesGpu(node::Node& n, const std::string& gpu) {
  node::Command c;
  c.timeout = std::chrono::seconds(10);
  if (gpu.rfind("GPU-", 0) != 0) {
    // Asked in the node: Docker's archive API would still see a device node `up` removed from a
    // mount the node was created with.
    c.argv = {"test", "-e", "/dev/nvidia" + gpu};
    KMPS_ASSIGN_OR_RETURN(node::CommandResult r, n.Run(c));
    return r.exit_code == 0;
  }
  c.argv = {"sh", "-c", kDaemonDevicesScript};
  KMPS_ASSIGN_OR_RETURN(node::CommandResult r, n.Run(c));
  bool serves = false;
  ForEachLine(r.out, [&](std::string_view line) {
    if (line.substr(0, 7) != "daemon " && line != "daemon") return;
    std::string devices = AsciiLower(Trim(line.substr(std::min<size_t>(7, line.size()))));
    serves = serves || devices.empty() || ("," + devices + ",").find("," + AsciiLower(gpu) + ",") != std::string::npos;
  });
  return serves;
}

}  // namespace

StatusOr<node::Node*> SelectGpuNode(const node::NodeList& nodes, const config::ClusterConfig& config,
                                    const std::string& gpu) {
  if (std::string why = config::GpuRefProblem(gpu); !why.empty()) return InvalidArgument("--gpu " + why);
  std::vector<node::Node*> serving;
  for (const auto& n : nodes) {
    if (!n->info().gpu || !n->info().running) continue;
    KMPS_ASSIGN_OR_RETURN(bool serves, ServesGpu(*n, gpu));
    if (serves) serving.push_back(n.get());
  }
  if (serving.empty()) return NotFound(fmt::format("no GPU node of cluster {} has GPU {}", config.name, gpu));
  if (serving.size() > 1) {
    std::vector<std::string> names;
    for (auto* n : serving) names.push_back(n->name());
    return InvalidArgument(fmt::format("GPU {} is in {} GPU nodes ({}; gpus {}): choose one with --node", gpu,
                                       serving.size(), fmt::join(names, ", "), config::GpuAssignmentText(config.gpus)));
  }
  return serving.front();
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
