#include "cluster/cdi_spec.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "common/text.h"
#include "kind/kind_render.h"
#include "kind/root_fs.h"

namespace kmps::cluster {
namespace {

// The minor of a GPU's device node (/dev/nvidiaN); none for the others (nvidiactl, nvidia-uvm...).
std::optional<int> GpuMinor(const std::string& inside_path) {
  constexpr std::string_view prefix = "/dev/nvidia";
  if (inside_path.rfind(prefix, 0) != 0) return std::nullopt;
  return ParseInteger<int>(std::string_view(inside_path).substr(prefix.size()));
}

}  // namespace

std::string RenderCdiSpec(const std::string& node, const config::ClusterConfig& config,
                          const kind::HostInventory& inventory, const std::vector<DaemonPlan>& daemons,
                          const std::optional<std::vector<int>>& keep) {
  using nlohmann::json;
  // The devices of a daemon that serves `gpus` (none: every GPU the node keeps).
  auto device_nodes = [&](const std::optional<int>& gpu) {
    json devices = json::array();
    for (const auto& d : inventory.devices) {
      std::string path = kind::InsidePath(inventory.dev_root, d.path);
      if (auto m = GpuMinor(path)) {
        if (gpu ? *m != *gpu : keep && std::find(keep->begin(), keep->end(), *m) == keep->end()) continue;
      }
      devices.push_back({{"path", path}, {"type", "c"}, {"major", d.major}, {"minor", d.minor}, {"permissions", "rw"}});
    }
    return devices;
  };
  auto edits = [&](const std::string& pipe, const std::optional<int>& gpu) {
    json mounts = json::array();
    mounts.push_back({{"hostPath", pipe}, {"containerPath", pipe}, {"options", {"rbind", "rw"}}});
    // The daemon's privileged socket masked: a root process in the Pod cannot quit the daemon or
    // change its settings through it (docs/pod.md, measured on an H200).
    mounts.push_back({{"hostPath", "/dev/null"},
                      {"containerPath", config::PrivilegedSocketPath(pipe)},
                      {"options", {"bind", "ro"}}});
    // The driver libraries where the node has them (kind's extraMounts), never the MPS binaries:
    // a Pod is a client, not a controller of the daemon.
    for (const auto& lib : inventory.libraries) {
      std::string path = kind::NodeLibraryPath(lib);
      mounts.push_back({{"hostPath", path}, {"containerPath", path}, {"options", {"ro", "nosuid", "nodev", "bind"}}});
    }
    return json{{"env", {"CUDA_MPS_PIPE_DIRECTORY=" + pipe}}, {"deviceNodes", device_nodes(gpu)}, {"mounts", mounts}};
  };
  json devices = json::array();
  bool per_gpu = !daemons.empty() && daemons.front().gpu;
  if (!per_gpu) {
    devices.push_back({{"name", node}, {"containerEdits", edits(config.mps.pipe_directory, std::nullopt)}});
  } else {
    // Each GPU's daemon is <node>-gpu<minor>, which the node's device plugin hands out (for
    // kindmps.dev/mps by the GPU of the device it gave, for kindmps.dev/mps-gpu<minor> alone). The
    // node's device is the first GPU's, for node images whose plugin knows no GPUs.
    devices.push_back({{"name", node}, {"containerEdits", edits(daemons.front().mps.pipe_directory, daemons.front().gpu)}});
    for (const auto& d : daemons) {
      devices.push_back({{"name", CdiGpuDeviceName(node, *d.gpu)}, {"containerEdits", edits(d.mps.pipe_directory, d.gpu)}});
    }
  }
  json spec = {{"cdiVersion", kCdiVersion}, {"kind", kCdiKind}, {"devices", devices}};
  return JsonText(spec) + "\n";
}

}  // namespace kmps::cluster
