#include "cluster/cdi_spec.h"

#include <nlohmann/json.hpp>

#include "kind/kind_render.h"
#include "kind/root_fs.h"
#include "common/json_text.h"

namespace kmps::cluster {

std::string RenderCdiSpec(const std::string& node, const config::ClusterConfig& config,
                          const kind::HostInventory& inventory) {
  using nlohmann::json;
  json devices = json::array();
  for (const auto& d : inventory.devices) {
    devices.push_back({{"path", kind::InsidePath(inventory.dev_root, d.path)},
                       {"type", "c"},
                       {"major", d.major},
                       {"minor", d.minor},
                       {"permissions", "rw"}});
  }
  json mounts = json::array();
  mounts.push_back({{"hostPath", config.mps.pipe_directory},
                    {"containerPath", config.mps.pipe_directory},
                    {"options", {"rbind", "rw"}}});
  // The daemon's privileged socket masked: a root process in the Pod cannot quit the daemon or
  // change its settings through it (docs/pod.md, measured on an H200).
  mounts.push_back({{"hostPath", "/dev/null"},
                    {"containerPath", config::PrivilegedSocketPath(config.mps.pipe_directory)},
                    {"options", {"bind", "ro"}}});
  // The driver libraries where the node has them (kind's extraMounts), never the MPS binaries:
  // a Pod is a client, not a controller of the daemon.
  for (const auto& lib : inventory.libraries) {
    std::string path = kind::NodeLibraryPath(lib);
    mounts.push_back({{"hostPath", path}, {"containerPath", path}, {"options", {"ro", "nosuid", "nodev", "bind"}}});
  }
  json spec = {{"cdiVersion", kCdiVersion},
               {"kind", kCdiKind},
               {"devices",
                {{{"name", node},
                  {"containerEdits",
                   {{"env", {"CUDA_MPS_PIPE_DIRECTORY=" + config.mps.pipe_directory}},
                    {"deviceNodes", devices},
                    {"mounts", mounts}}}}}}};
  return JsonText(spec) + "\n";
}

}  // namespace kmps::cluster
