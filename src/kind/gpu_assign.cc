#include "kind/gpu_assign.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"

namespace kmps::kind {
namespace {

std::string HostList(const std::vector<HostGpu>& host) {
  if (host.empty()) return "none found (kindmps-api inspect)";
  std::vector<std::string> parts;
  for (const auto& g : host) parts.push_back(g.uuid.empty() ? std::to_string(g.minor) : fmt::format("{} {}", g.minor, g.uuid));
  return fmt::format("{}", fmt::join(parts, ", "));
}

StatusOr<HostGpu> Find(const std::string& node, const std::string& ref, const std::vector<HostGpu>& host) {
  for (const auto& g : host) {
    // UUIDs as CUDA and nvidia-smi read them: the hex in either case.
    if (ref.rfind("GPU-", 0) == 0 ? AsciiLower(g.uuid) == AsciiLower(ref) : std::to_string(g.minor) == ref) return g;
  }
  if (ref.rfind("GPU-", 0) == 0 && std::all_of(host.begin(), host.end(), [](const HostGpu& g) { return g.uuid.empty(); })) {
    return InvalidArgument(fmt::format("gpus: {}: GPU {} is named by UUID, but this host's GPU UUIDs are unknown (no "
                                       "/proc/driver/nvidia/gpus): name it by its device minor",
                                       node, ref));
  }
  return InvalidArgument(fmt::format("gpus: {}: this host has no GPU {} (its GPUs: {})", node, ref, HostList(host)));
}

}  // namespace

std::string MinorList(const std::vector<HostGpu>& gpus) {
  std::vector<int> minors;
  for (const auto& g : gpus) minors.push_back(g.minor);
  return fmt::format("{}", fmt::join(minors, ","));
}

std::string VisibleDevices(const std::vector<HostGpu>& gpus) {
  std::vector<std::string> uuids;
  for (const auto& g : gpus) {
    if (g.uuid.empty()) return "";
    uuids.push_back(g.uuid);
  }
  return fmt::format("{}", fmt::join(uuids, ","));
}

StatusOr<std::vector<NodeGpus>> AssignGpus(const config::ClusterConfig& config, const std::vector<HostGpu>& host) {
  using Mode = config::GpuAssignment::Mode;
  std::vector<NodeGpus> out;
  for (const auto& n : config::NodeNames(config)) {
    if (config::IsGpuNode(config, n, config::NodeRole(config, n))) out.push_back({n, {}, config.gpus.mode == Mode::kAll});
  }
  switch (config.gpus.mode) {
    case Mode::kAll:
      for (auto& n : out) n.gpus = host;
      break;
    case Mode::kOnePerNode:
      if (host.size() < out.size()) {
        return InvalidArgument(fmt::format(
            "gpus: onePerNode gives each of the {} GPU nodes a GPU of its own, but this host has {} (its GPUs: {}): "
            "use fewer workers or gpuNodes, or gpus: all",
            out.size(), host.size(), HostList(host)));
      }
      for (size_t i = 0; i < out.size(); ++i) out[i].gpus = {host[i]};
      break;
    case Mode::kPerNode:
      for (auto& n : out) {
        for (const auto& [node, refs] : config.gpus.per_node) {
          if (node != n.node) continue;
          for (const auto& ref : refs) {
            KMPS_ASSIGN_OR_RETURN(HostGpu g, Find(node, ref, host));
            n.gpus.push_back(std::move(g));
          }
        }
        std::sort(n.gpus.begin(), n.gpus.end(), [](const HostGpu& a, const HostGpu& b) { return a.minor < b.minor; });
        auto dup = std::adjacent_find(n.gpus.begin(), n.gpus.end(),
                                      [](const HostGpu& a, const HostGpu& b) { return a.minor == b.minor; });
        if (dup != n.gpus.end()) {
          return InvalidArgument(fmt::format("gpus: {}: GPU {} is named twice (by minor and by UUID)", n.node, dup->minor));
        }
      }
      break;
  }
  if (config.gpus.mode != Mode::kAll) {
    for (size_t i = 0; i < out.size(); ++i) {
      for (size_t j = i + 1; j < out.size(); ++j) {
        for (const auto& g : out[i].gpus) {
          for (const auto& h : out[j].gpus) {
            if (g.minor == h.minor) {
              return InvalidArgument(fmt::format(
                  "gpus: GPU {} is given to both {} and {}: each GPU has one MPS control daemon, in one node", g.minor,
                  out[i].node, out[j].node));
            }
          }
        }
      }
    }
  }
  std::vector<HostGpu> assigned;
  for (const auto& n : out) assigned.insert(assigned.end(), n.gpus.begin(), n.gpus.end());
  KMPS_RETURN_IF_ERROR(RefuseMig(config.gpus.mode == Mode::kAll ? host : assigned));
  return out;
}

}  // namespace kmps::kind
