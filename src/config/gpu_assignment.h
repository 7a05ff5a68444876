// Which of the host's GPUs each GPU node gets (`gpus:` in kindmps.yaml, `up --gpus`). A GPU is
// named by its device minor (N of /dev/nvidiaN) or its UUID (GPU-...): never by a CUDA or
// nvidia-smi index, which renumber (CUDA_VISIBLE_DEVICES, PCI order). Resolving the names against
// the host's GPUs is kind/gpu_assign.h.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kmps::config {

struct GpuAssignment {
  enum class Mode {
    kAll,        // every GPU node sees every GPU (kind's privileged nodes do), one daemon over all
    kOnePerNode, // the i-th GPU node (in kind's node order) gets the i-th GPU (by minor)
    kPerNode,    // as listed: node name -> its GPUs
  };
  Mode mode = Mode::kAll;
  std::vector<std::pair<std::string, std::vector<std::string>>> per_node = {};

  bool operator==(const GpuAssignment&) const = default;
};

// The flag's form, which the state file keeps too: "all", "one-per-node", or
// "NODE=GPU[+GPU...][,NODE=...]" (e.g. "lab-worker=0,lab-worker2=GPU-5d0f...").
std::string GpuAssignmentText(const GpuAssignment& gpus);
// Parses that form (and "onePerNode", as kindmps.yaml spells it). kInvalidArgument naming the part.
StatusOr<GpuAssignment> ParseGpuAssignment(std::string_view text);

// Why `ref` cannot name a GPU, "" when it can: a device minor 0..63 without leading zeros, or a
// UUID "GPU-" followed by hex digits and dashes.
std::string GpuRefProblem(const std::string& ref);

}  // namespace kmps::config
