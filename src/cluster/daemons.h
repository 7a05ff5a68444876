// The MPS control daemons of a GPU node (mps.daemons): one over the node's GPUs, or one per GPU,
// each in its own pipe and log directories (config::GpuPipeDirectory), with CUDA_VISIBLE_DEVICES
// naming its GPU by UUID (indices renumber there) and its settings (mps.perGpu over mps).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "kind/gpu_inventory.h"

namespace kmps::cluster {

struct DaemonPlan {
  std::optional<int> gpu;        // perGpu: the device minor of its GPU; none: the node's one daemon
  config::MpsSettings mps;       // its directories and settings, as every MPS exec takes them
  std::string visible_devices;   // CUDA_VISIBLE_DEVICES ("GPU-a,GPU-b"); "" leaves it unset
  // "node X" or "node X GPU 1", for messages and notes.
  std::string Where(const std::string& node) const;
};

// Pure: the settings of the daemon of GPU `minor` (perGpu), or `mps` itself (perNode). `uuid`
// ("" when unknown) matches mps.perGpu entries that name the GPU by UUID. A per-GPU daemon sees
// its GPU as CUDA device 0: mps.perGpu's pinned limit is device 0's.
config::MpsSettings DaemonSettings(const config::MpsSettings& mps, std::optional<int> minor,
                                   const std::string& uuid = "");

// Pure: the daemons of a GPU node that has `gpus` (kind/gpu_assign.h's NodeGpus::gpus);
// `visible_devices` is the perNode daemon's (empty: unset).
std::vector<DaemonPlan> PlanDaemons(const config::MpsSettings& mps, const std::vector<kind::HostGpu>& gpus,
                                    const std::string& visible_devices);

// Pure: checked before anything changes, with the host's GPUs known: with perGpu daemons every
// GPU of a GPU node has a UUID (CUDA_VISIBLE_DEVICES names it), and every mps.perGpu entry names a
// GPU some GPU node has. kInvalidArgument, one line. `node_gpus`: each GPU node's GPUs.
Status CheckDaemonPlan(const config::MpsSettings& mps, const std::vector<std::vector<kind::HostGpu>>& node_gpus,
                       const std::vector<kind::HostGpu>& host);

}  // namespace kmps::cluster
