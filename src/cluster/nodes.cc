#include "cluster/nodes.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cluster/daemons.h"
#include "cluster/status.h"
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

// One line per control daemon of the node: "daemon " and its CUDA_VISIBLE_DEVICES ("" when unset),
// then "pipe " and its CUDA_MPS_PIPE_DIRECTORY; last, "gpus" and the node's device minors.
constexpr const char* kDaemonDevicesScript =
    R"sh(for p in /proc/[0-9]*; do [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] || continue
  echo "daemon $(tr '\0' '\n' <"$p/environ" 2>/dev/null | sed -n 's/^CUDA_VISIBLE_DEVICES=//p')"
  echo "pipe $(tr '\0' '\n' <"$p/environ" 2>/dev/null | sed -n 's/^CUDA_MPS_PIPE_DIRECTORY=//p')"; done
g=; for d in /dev/nvidia[0-9]*; do [ -e "$d" ] && g="$g ${d#/dev/nvidia}"; done; echo "gpus$g"; exit 0)sh";

// Whether the CUDA_VISIBLE_DEVICES `devices` names GPU `uuid` (case aside, as CUDA reads it).
bool Names(const std::string& devices, const std::string& uuid) {
  return ("," + AsciiLower(devices) + ",").find("," + AsciiLower(uuid) + ",") != std::string::npos;
}

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
    std::string devices(Trim(line.substr(std::min<size_t>(7, line.size()))));
    serves = serves || devices.empty() || Names(devices, gpu);
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

StatusOr<std::vector<MpsTarget>> DaemonTargets(node::Node& node, const config::ClusterConfig& config,
                                               const std::string& gpu) {
  if (config.mps.daemons != config::MpsSettings::Daemons::kPerGpu) {
    return std::vector<MpsTarget>{{&node, std::nullopt, config.mps}};
  }
  node::Command c;
  c.timeout = std::chrono::seconds(10);
  c.argv = {"sh", "-c", kDaemonDevicesScript};
  KMPS_ASSIGN_OR_RETURN(node::CommandResult r, node.Run(c));
  std::vector<int> minors;
  std::map<std::string, std::string> visible_of;  // pipe directory -> CUDA_VISIBLE_DEVICES
  std::string visible;
  ForEachLine(r.out, [&](std::string_view line) {
    if (line.substr(0, 6) == "daemon") visible = std::string(Trim(line.substr(6)));
    if (line.substr(0, 5) == "pipe ") visible_of[std::string(Trim(line.substr(5)))] = visible;
    if (line.substr(0, 4) == "gpus") minors = ParseGpuMinors(line.substr(4));
  });
  std::vector<MpsTarget> targets;
  for (int m : minors) {
    config::MpsSettings mps = DaemonSettings(config.mps, m);
    auto it = visible_of.find(mps.pipe_directory);
    bool chosen = gpu.empty() || (gpu.rfind("GPU-", 0) == 0 ? it != visible_of.end() && Names(it->second, gpu)
                                                           : gpu == std::to_string(m));
    if (chosen) targets.push_back({&node, m, std::move(mps)});
  }
  if (targets.empty()) {
    return NotFound(gpu.empty() ? fmt::format("node {} has no GPU for a per-GPU MPS daemon (no /dev/nvidiaN)", node.name())
                                : fmt::format("no per-GPU MPS daemon of node {} serves GPU {} (kindmps-api status)",
                                              node.name(), gpu));
  }
  return targets;
}

}  // namespace kmps::cluster
