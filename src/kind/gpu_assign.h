// The GPUs each GPU node gets: config::GpuAssignment resolved against the host's GPUs
// (gpu_inventory.h), before anything is created. A node then sees only its GPUs' device nodes and
// its MPS daemon serves them, named by UUID in CUDA_VISIBLE_DEVICES (indices renumber there).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "kind/gpu_inventory.h"

namespace kmps::kind {

struct NodeGpus {
  std::string node;
  std::vector<HostGpu> gpus;  // by minor
  bool all = true;            // gpus: all; nothing is masked, CUDA_VISIBLE_DEVICES is not set
};

// One entry per GPU node of `config`, in kind's node order. kInvalidArgument (one line) for a GPU
// the host does not have (naming the host's), a GPU given to two nodes (MPS runs one control daemon
// per GPU), onePerNode with fewer GPUs than GPU nodes, GPUs named by UUID on a host whose UUIDs are
// unknown, or a GPU with MIG enabled (RefuseMig).
StatusOr<std::vector<NodeGpus>> AssignGpus(const config::ClusterConfig& config, const std::vector<HostGpu>& host);

// "0,1": the minors, as the prepare script and the state file take them.
std::string MinorList(const std::vector<HostGpu>& gpus);
// "GPU-a,GPU-b": CUDA_VISIBLE_DEVICES for a daemon of these GPUs; "" when any UUID is unknown.
std::string VisibleDevices(const std::vector<HostGpu>& gpus);

}  // namespace kmps::kind
