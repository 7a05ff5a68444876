#include "cluster/request_diff.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"

namespace kmps::cluster {
namespace {

std::string List(const std::vector<std::string>& v) { return v.empty() ? "(all)" : fmt::format("[{}]", fmt::join(v, ", ")); }

std::string Quoted(const std::string& s) { return s.empty() ? "(kind's default)" : s; }

std::string Threads(const std::optional<double>& p) { return p ? fmt::format("{}", *p) : "(unset)"; }

std::string Pinned(const std::vector<config::MpsSettings::PinnedLimit>& limits) {
  std::vector<std::string> parts;
  for (const auto& l : limits) parts.push_back(l.device + ":" + l.limit);
  return parts.empty() ? "(none)" : fmt::format("[{}]", fmt::join(parts, ", "));
}

// Whether every device `before` limits is still limited in `after` (a limit cannot be lifted live).
bool KeepsEveryDevice(const std::vector<config::MpsSettings::PinnedLimit>& before,
                      const std::vector<config::MpsSettings::PinnedLimit>& after) {
  for (const auto& b : before) {
    bool kept = false;
    for (const auto& a : after) kept = kept || a.device == b.device;
    if (!kept) return false;
  }
  return true;
}

std::string PerGpu(const std::vector<config::MpsSettings::GpuSettings>& settings) {
  std::vector<std::string> parts;
  for (const auto& g : settings) {
    std::vector<std::string> values;
    if (g.default_active_thread_percentage) values.push_back(fmt::format("threads {}", *g.default_active_thread_percentage));
    if (!g.pinned_device_memory_limit.empty()) values.push_back("pinned " + g.pinned_device_memory_limit);
    parts.push_back(fmt::format("{}: {}", g.gpu, fmt::join(values, " ")));
  }
  return parts.empty() ? "(none)" : fmt::format("[{}]", fmt::join(parts, ", "));
}

// Whether every per-GPU value `before` sets is still set in `after` (none can be unset live).
bool KeepsEveryGpuSetting(const std::vector<config::MpsSettings::GpuSettings>& before,
                          const std::vector<config::MpsSettings::GpuSettings>& after) {
  for (const auto& b : before) {
    auto a = std::find_if(after.begin(), after.end(), [&](const auto& x) { return AsciiLower(x.gpu) == AsciiLower(b.gpu); });
    if (a == after.end()) return false;
    if (b.default_active_thread_percentage && !a->default_active_thread_percentage) return false;
    if (!b.pinned_device_memory_limit.empty() && a->pinned_device_memory_limit.empty()) return false;
  }
  return true;
}

// The first line where `a` and `b` differ, as "line N: A -> B".
std::string FirstDifferentLine(const std::string& a, const std::string& b) {
  std::vector<std::string_view> la, lb;
  ForEachLine(a, [&](std::string_view l) { la.push_back(l); });
  ForEachLine(b, [&](std::string_view l) { lb.push_back(l); });
  for (size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    std::string_view x = i < la.size() ? la[i] : "(end)";
    std::string_view y = i < lb.size() ? lb[i] : "(end)";
    if (x != y) return fmt::format("line {}: {} -> {}", i + 1, Trim(x), Trim(y));
  }
  return "";
}

}  // namespace

RequestDiff DiffRequest(const config::ClusterConfig& saved, const config::ClusterConfig& request,
                        const std::string& saved_kind_config, const std::string& request_kind_config) {
  RequestDiff d;
  auto fixed = [&](bool differs, std::string_view field, const std::string& from, const std::string& to) {
    if (differs) d.fixed.push_back(fmt::format("{} {} -> {}", field, from, to));
  };
  const config::MpsSettings &a = saved.mps, &b = request.mps;
  fixed(saved.image != request.image, "image", Quoted(saved.image), Quoted(request.image));
  fixed(saved.workers != request.workers, "workers", std::to_string(saved.workers), std::to_string(request.workers));
  fixed(saved.gpu_nodes != request.gpu_nodes, "gpuNodes", List(saved.gpu_nodes), List(request.gpu_nodes));
  fixed(saved.gpus != request.gpus, "gpus", config::GpuAssignmentText(saved.gpus),
        config::GpuAssignmentText(request.gpus));
  fixed(a.pipe_directory != b.pipe_directory, "mps.pipeDirectory", a.pipe_directory, b.pipe_directory);
  fixed(a.log_directory != b.log_directory, "mps.logDirectory", a.log_directory, b.log_directory);
  fixed(a.daemons != b.daemons, "mps.daemons", config::DaemonsText(a.daemons), config::DaemonsText(b.daemons));
  fixed(a.server_uid != b.server_uid, "mps.serverUid", std::to_string(a.server_uid), std::to_string(b.server_uid));
  // The catch-all, for what no named field explains.
  if (d.fixed.empty() && !saved_kind_config.empty() && saved_kind_config != request_kind_config) {
    d.fixed.push_back(fmt::format("the kind config (mounts, patches, labels) at {}",
                                  FirstDifferentLine(saved_kind_config, request_kind_config)));
  }

  if (saved.shm_bytes != request.shm_bytes) {
    d.live.push_back(fmt::format("shmSize {} -> {}", saved.shm_size, request.shm_size));
  }
  if (a.start_server != b.start_server) {
    d.live.push_back(fmt::format("mps.startServer {} -> {}", a.start_server, b.start_server));
  }
  // An MPS setting can be set again, not unset: the daemon keeps a value until it restarts.
  std::string threads = fmt::format("mps.defaultActiveThreadPercentage {} -> {}",
                                    Threads(a.default_active_thread_percentage),
                                    Threads(b.default_active_thread_percentage));
  if (a.default_active_thread_percentage != b.default_active_thread_percentage) {
    (b.default_active_thread_percentage ? d.live : d.fixed).push_back(threads);
  }
  std::string pinned = fmt::format("mps.pinnedDeviceMemoryLimits {} -> {}", Pinned(a.pinned_device_memory_limits),
                                   Pinned(b.pinned_device_memory_limits));
  if (Pinned(a.pinned_device_memory_limits) != Pinned(b.pinned_device_memory_limits)) {
    (KeepsEveryDevice(a.pinned_device_memory_limits, b.pinned_device_memory_limits) ? d.live : d.fixed)
        .push_back(pinned);
  }
  if (a.per_gpu != b.per_gpu) {
    (KeepsEveryGpuSetting(a.per_gpu, b.per_gpu) ? d.live : d.fixed)
        .push_back(fmt::format("mps.perGpu {} -> {}", PerGpu(a.per_gpu), PerGpu(b.per_gpu)));
  }
  return d;
}

}  // namespace kmps::cluster
