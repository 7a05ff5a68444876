#include "config/gpu_assignment.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"
#include "config/config.h"

namespace kmps::config {

std::string GpuAssignmentText(const GpuAssignment& gpus) {
  switch (gpus.mode) {
    case GpuAssignment::Mode::kAll: return "all";
    case GpuAssignment::Mode::kOnePerNode: return "one-per-node";
    case GpuAssignment::Mode::kPerNode: break;
  }
  std::vector<std::string> parts;
  for (const auto& [node, refs] : gpus.per_node) parts.push_back(fmt::format("{}={}", node, fmt::join(refs, "+")));
  return fmt::format("{}", fmt::join(parts, ","));
}

std::string GpuRefProblem(const std::string& ref) {
  if (ref.rfind("GPU-", 0) == 0) {
    bool hex = ref.size() > 4 && std::all_of(ref.begin() + 4, ref.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '-';
    });
    return hex ? "" : fmt::format("\"{}\" is no GPU UUID (GPU- and hex digits, as nvidia-smi -L prints it)", ref);
  }
  if (!PinnedDeviceProblem(ref).empty()) {
    return fmt::format("\"{}\" is no GPU: give its device minor (N of /dev/nvidiaN, 0 to {}) or its UUID (GPU-...)",
                       ref, kMaxGpus - 1);
  }
  return "";
}

StatusOr<GpuAssignment> ParseGpuAssignment(std::string_view text) {
  GpuAssignment gpus;
  std::string t(Trim(text));
  if (t == "all") return gpus;
  if (t == "one-per-node" || t == "onePerNode") {
    gpus.mode = GpuAssignment::Mode::kOnePerNode;
    return gpus;
  }
  gpus.mode = GpuAssignment::Mode::kPerNode;
  for (std::string_view part : Split(t, ',')) {
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size()) {
      return InvalidArgument(fmt::format("\"{}\": expected all, one-per-node, or NODE=GPU[+GPU...][,NODE=...] "
                                         "(GPU: a device minor or a UUID)", part));
    }
    std::string node(part.substr(0, eq));
    for (const auto& [seen, refs] : gpus.per_node) {
      if (seen == node) return InvalidArgument(fmt::format("node {} is given GPUs twice", node));
    }
    std::vector<std::string> refs;
    for (std::string_view ref : Split(part.substr(eq + 1), '+')) {
      std::string r(ref);
      if (std::string why = GpuRefProblem(r); !why.empty()) return InvalidArgument(fmt::format("{}: {}", node, why));
      if (std::find(refs.begin(), refs.end(), r) != refs.end()) {
        return InvalidArgument(fmt::format("{}: GPU {} is listed twice", node, r));
      }
      refs.push_back(std::move(r));
    }
    gpus.per_node.emplace_back(std::move(node), std::move(refs));
  }
  return gpus;
}

}  // namespace kmps::config
