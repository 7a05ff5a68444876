#include "config/config.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/number.h"
#include "common/text.h"

namespace kmps::config {

std::string ClusterNameProblem(const std::string& name) {
  if (name.empty()) return "a cluster name is needed";
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return "expected lower-case letters, digits, '.' and '-' (kind's ^[a-z0-9.-]+$)";
    }
  }
  if (name[0] == '-' || name[0] == '.') return "must not begin with '-' or '.'";
  if (name.size() > kMaxClusterNameLength) {
    return fmt::format("is {} characters, more than {}: kind's first node, <name>-control-plane, must be a valid "
                       "hostname (63 characters at most)",
                       name.size(), kMaxClusterNameLength);
  }
  return "";
}

std::string DaemonsText(MpsSettings::Daemons daemons) {
  return daemons == MpsSettings::Daemons::kPerGpu ? "perGpu" : "perNode";
}

StatusOr<MpsSettings::Daemons> ParseDaemons(std::string_view text) {
  if (text == "perNode" || text == "per-node") return MpsSettings::Daemons::kPerNode;
  if (text == "perGpu" || text == "per-gpu") return MpsSettings::Daemons::kPerGpu;
  return InvalidArgument(fmt::format("\"{}\": expected perNode or perGpu (per-node, per-gpu)", text));
}

std::string ShmSizeProblem(uint64_t bytes) {
  if (bytes > kMaxShmBytes) {
    return fmt::format("{} bytes is more than the {} bytes (4T) a /dev/shm may have here", bytes, kMaxShmBytes);
  }
  return "";
}

std::string PinnedDeviceProblem(const std::string& device) {
  std::optional<uint64_t> n = ParseCount(device, kMaxGpus - 1);
  if (!n || std::to_string(*n) != device) {
    return fmt::format("expected a GPU number from 0 to {}, got \"{}\"", kMaxGpus - 1, device);
  }
  return "";
}

std::string PinnedLimitProblem(const std::string& limit) {
  std::string_view digits(limit);
  char unit = digits.empty() ? 0 : digits.back();
  if (unit == 'M' || unit == 'G') digits.remove_suffix(1);
  std::optional<uint64_t> n = unit == 'M' || unit == 'G' ? ParseCount(digits, kMaxPinnedLimitMiB) : std::nullopt;
  if (n && unit == 'G' && *n > kMaxPinnedLimitMiB / 1024) n.reset();
  if (!n || *n == 0) {
    return fmt::format("expected a size like 512M or 2G, more than 0 and at most {}G, got \"{}\"",
                       kMaxPinnedLimitMiB / 1024, limit);
  }
  return "";
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

Status ValidatePerGpuSettings(const MpsSettings& mps) {
  bool per_gpu = mps.daemons == MpsSettings::Daemons::kPerGpu;
  if (!mps.per_gpu.empty() && !per_gpu) {
    return InvalidArgument("mps.perGpu: settings per GPU need a daemon per GPU (mps.daemons: perGpu)");
  }
  if (per_gpu) {
    for (const auto& l : mps.pinned_device_memory_limits) {
      if (l.device != "0") {
        return InvalidArgument(fmt::format("mps.pinnedDeviceMemoryLimits: device {}: a per-GPU daemon sees its GPU as "
                                           "device 0 (mps.daemons: perGpu); give other GPUs' limits in mps.perGpu",
                                           l.device));
      }
    }
  }
  for (size_t i = 0; i < mps.per_gpu.size(); ++i) {
    const auto& g = mps.per_gpu[i];
    if (std::string why = GpuRefProblem(g.gpu); !why.empty()) return InvalidArgument("mps.perGpu: " + why);
    for (size_t j = 0; j < i; ++j) {
      if (AsciiLower(mps.per_gpu[j].gpu) == AsciiLower(g.gpu)) {
        return InvalidArgument(fmt::format("mps.perGpu: GPU {} is given twice", g.gpu));
      }
    }
    const auto& p = g.default_active_thread_percentage;
    if (p && !(*p > 0 && *p <= 100)) {
      return InvalidArgument(fmt::format("mps.perGpu[{}].defaultActiveThreadPercentage: expected a percentage in "
                                         "(0, 100], got {}", g.gpu, *p));
    }
    if (!g.pinned_device_memory_limit.empty()) {
      if (std::string why = PinnedLimitProblem(g.pinned_device_memory_limit); !why.empty()) {
        return InvalidArgument(fmt::format("mps.perGpu[{}].pinnedDeviceMemoryLimit: {}", g.gpu, why));
      }
    }
  }
  return Status::Ok();
}

Status ValidateClusterConfig(const ClusterConfig& config) {
  if (std::string why = ClusterNameProblem(config.name); !why.empty()) {
    return InvalidArgument(fmt::format("cluster name \"{}\" is invalid: {}", config.name, why));
  }
  if (config.workers < 0 || config.workers > kMaxWorkers) {
    return InvalidArgument(fmt::format("workers: expected 0 to {}, got {}", kMaxWorkers, config.workers));
  }
  if (std::string why = ShmSizeProblem(config.shm_bytes); !why.empty()) {
    return InvalidArgument(fmt::format("shmSize {}: {}", config.shm_size, why));
  }
  for (const auto& l : config.mps.pinned_device_memory_limits) {
    for (const std::string& why : {PinnedDeviceProblem(l.device), PinnedLimitProblem(l.limit)}) {
      if (!why.empty()) return InvalidArgument(fmt::format("mps.pinnedDeviceMemoryLimits: {}", why));
    }
  }
  KMPS_RETURN_IF_ERROR(ValidatePerGpuSettings(config.mps));
  std::vector<std::string> nodes = NodeNames(config);
  for (const auto& g : config.gpu_nodes) {
    bool role = g == "control-plane" || (g == "worker" && config.workers > 0);
    if (!role && std::find(nodes.begin(), nodes.end(), g) == nodes.end()) {
      return InvalidArgument(fmt::format("gpuNodes: \"{}\" is no node or role of this cluster "
                                         "(nodes: {}; roles: control-plane, worker)",
                                         g, fmt::join(nodes, ", ")));
    }
  }
  // A node given GPUs must be one that gets the driver; every GPU node must be given some.
  if (config.gpus.mode == GpuAssignment::Mode::kPerNode) {
    std::vector<std::string> gpu_nodes;
    for (const auto& n : nodes) {
      if (IsGpuNode(config, n, NodeRole(config, n))) gpu_nodes.push_back(n);
    }
    for (const auto& [node, refs] : config.gpus.per_node) {
      if (std::find(gpu_nodes.begin(), gpu_nodes.end(), node) == gpu_nodes.end()) {
        return InvalidArgument(fmt::format("gpus: \"{}\" is no GPU node of this cluster (GPU nodes: {}; gpuNodes "
                                           "chooses them)", node, fmt::join(gpu_nodes, ", ")));
      }
    }
    for (const auto& n : gpu_nodes) {
      bool given = std::any_of(config.gpus.per_node.begin(), config.gpus.per_node.end(),
                               [&](const auto& entry) { return entry.first == n; });
      if (!given) {
        return InvalidArgument(fmt::format("gpus: GPU node {} is given no GPU: list it in gpus, or leave it out of "
                                           "gpuNodes", n));
      }
    }
  }
  return Status::Ok();
}


}  // namespace kmps::config
