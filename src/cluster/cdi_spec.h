// The CDI spec `up` writes into each GPU node: one device of kind kindmps.dev/mps, named after the
// node, whose container edits give a container what an MPS client needs: the pipe directory
// (bound read-write), CUDA_MPS_PIPE_DIRECTORY, the GPU device nodes (by type and number, so
// containerd need not find them in the node) and the driver libraries at the paths the node has
// them. The node's kindmps-device-plugin hands this device to Pods that ask for kindmps.dev/mps.
// With a daemon per GPU, each GPU's daemon has a device of its own, <node>-gpu<minor>, which the
// plugin hands out for kindmps.dev/mps (48 devices per GPU) and kindmps.dev/mps-gpu<minor>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cluster/daemons.h"
#include "config/config.h"
#include "kind/host_inspect.h"

namespace kmps::cluster {

inline constexpr const char* kCdiSpecPath = "/var/run/cdi/kindmps.json";
inline constexpr const char* kCdiKind = "kindmps.dev/mps";
// containerd 1.7 (CDI 0.5.0–0.8.0 here, upstream 1.7.24 up to 0.7.0) and 2.x read 0.6.0.
inline constexpr const char* kCdiVersion = "0.6.0";
// Where a node's device plugin registers with kubelet; its socket there means CDI access works.
inline constexpr const char* kDevicePluginSocket = "/var/lib/kubelet/device-plugins/kindmps.sock";

// The CDI device of one GPU's daemon (mps.daemons perGpu): <node>-gpu<minor>.
inline std::string CdiGpuDeviceName(const std::string& node, int minor) {
  return node + "-gpu" + std::to_string(minor);
}

// Pure: the spec (JSON, which CDI reads as well as YAML) for node `node`, whose daemons are
// `daemons` (PlanDaemons; empty: config.mps's one) and which keeps the GPUs `keep` (device
// minors; none: every GPU of the inventory): the others' device nodes are not in it. With a
// daemon per GPU, each GPU has a device of its own (CdiGpuDeviceName: its pipe directory and its
// device node alone), and the device named after the node is the first GPU's.
std::string RenderCdiSpec(const std::string& node, const config::ClusterConfig& config,
                          const kind::HostInventory& inventory, const std::vector<DaemonPlan>& daemons = {},
                          const std::optional<std::vector<int>>& keep = std::nullopt);

}  // namespace kmps::cluster
