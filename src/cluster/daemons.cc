#include "cluster/daemons.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"

namespace kmps::cluster {
namespace {

bool Names(const config::MpsSettings::GpuSettings& g, int minor, const std::string& uuid) {
  if (g.gpu.rfind("GPU-", 0) == 0) return !uuid.empty() && AsciiLower(g.gpu) == AsciiLower(uuid);
  return g.gpu == std::to_string(minor);
}

}  // namespace

std::string DaemonPlan::Where(const std::string& node) const {
  return gpu ? fmt::format("node {} GPU {}", node, *gpu) : fmt::format("node {}", node);
}

config::MpsSettings DaemonSettings(const config::MpsSettings& mps, std::optional<int> minor, const std::string& uuid) {
  if (!minor || mps.daemons != config::MpsSettings::Daemons::kPerGpu) return mps;
  config::MpsSettings d = mps;
  d.pipe_directory = config::GpuPipeDirectory(mps.pipe_directory, *minor);
  d.log_directory = config::GpuPipeDirectory(mps.log_directory, *minor);
  d.per_gpu.clear();
  for (const auto& g : mps.per_gpu) {
    if (!Names(g, *minor, uuid)) continue;
    if (g.default_active_thread_percentage) d.default_active_thread_percentage = g.default_active_thread_percentage;
    if (!g.pinned_device_memory_limit.empty()) d.pinned_device_memory_limits = {{"0", g.pinned_device_memory_limit}};
  }
  return d;
}

std::vector<DaemonPlan> PlanDaemons(const config::MpsSettings& mps, const std::vector<kind::HostGpu>& gpus,
                                    const std::string& visible_devices) {
  if (mps.daemons != config::MpsSettings::Daemons::kPerGpu) return {DaemonPlan{std::nullopt, mps, visible_devices}};
  std::vector<DaemonPlan> plans;
  for (const auto& g : gpus) plans.push_back({g.minor, DaemonSettings(mps, g.minor, g.uuid), g.uuid});
  return plans;
}

Status CheckDaemonPlan(const config::MpsSettings& mps, const std::vector<std::vector<kind::HostGpu>>& node_gpus,
                       const std::vector<kind::HostGpu>& host) {
  if (mps.daemons != config::MpsSettings::Daemons::kPerGpu) return Status::Ok();
  for (const auto& gpus : node_gpus) {
    if (gpus.empty()) {
      return InvalidArgument("mps.daemons perGpu: a GPU node has no GPU (kindmps-api inspect lists the host's)");
    }
    for (const auto& g : gpus) {
      if (g.uuid.empty()) {
        return InvalidArgument(fmt::format("mps.daemons perGpu: the UUID of GPU {} is unknown (no "
                                           "/proc/driver/nvidia/gpus; see --proc-root), and a per-GPU daemon names "
                                           "its GPU by UUID: use mps.daemons perNode",
                                           g.minor));
      }
    }
  }
  for (const auto& s : mps.per_gpu) {
    bool found = false;
    for (const auto& gpus : node_gpus) {
      for (const auto& g : gpus) found = found || Names(s, g.minor, g.uuid);
    }
    if (!found) {
      std::vector<std::string> have;
      for (const auto& g : host) have.push_back(g.uuid.empty() ? std::to_string(g.minor) : fmt::format("{} {}", g.minor, g.uuid));
      return InvalidArgument(fmt::format("mps.perGpu: GPU {} is no GPU node's (the host's GPUs: {}; gpus gives them "
                                         "to nodes)",
                                         s.gpu, have.empty() ? "none found" : fmt::format("{}", fmt::join(have, ", "))));
    }
  }
  return Status::Ok();
}

}  // namespace kmps::cluster
