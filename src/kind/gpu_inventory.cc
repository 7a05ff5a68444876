#include "kind/gpu_inventory.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"
#include "kind/host_inspect.h"
#include "kind/kind_runner.h"
#include "kind/root_fs.h"

namespace kmps::kind {
namespace {

constexpr const char* kGpusDir = "/proc/driver/nvidia/gpus";
constexpr const char* kCapsDir = "/proc/driver/nvidia/capabilities";
constexpr size_t kMaxSmiLines = 1024;

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The names in `dir` (no "." and ".."), sorted; nullopt when it cannot be opened.
std::optional<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

// N of "nvidiaN", or nullopt for any other name (nvidiactl, nvidia-uvm, nvidia-caps, ...).
std::optional<int> MinorOfDeviceName(const std::string& name) {
  if (name.size() <= 6 || name.compare(0, 6, "nvidia") != 0) return std::nullopt;
  return ParseInteger<int>(std::string_view(name).substr(6));
}

MigMode MigFromSmiText(std::string_view text) {
  std::string v = AsciiLower(Trim(text));
  if (v == "enabled") return MigMode::kEnabled;
  if (v == "disabled") return MigMode::kDisabled;
  // NVML_ERROR_NOT_SUPPORTED: a GPU without MIG runs whole, as MIG disabled.
  if (v == "[n/a]" || v == "n/a") return MigMode::kDisabled;
  return MigMode::kUnknown;
}

// Asks nvidia-smi for the MIG state of the GPUs procfs could not settle; matches by UUID, then by
// bus id (nvidia-smi's index is PCI order, which need not be the device minor).
void FillMigFromNvidiaSmi(const GpuInventoryOptions& options, std::vector<HostGpu>& gpus,
                          std::vector<std::string>& warnings) {
  std::vector<std::string> lines;
  auto result = RunProcess(
      {options.nvidia_smi, "--query-gpu=index,uuid,mig.mode.current,pci.bus_id",
       "--format=csv,noheader"},
      Deadline::In(options.nvidia_smi_timeout),
      [&](std::string_view line) {
        if (lines.size() < kMaxSmiLines) lines.emplace_back(line);
      },
      4);
  auto unknown_note = [&](const std::string& why) {
    warnings.push_back(fmt::format("{}: {}; MIG state left unknown", options.nvidia_smi, why));
  };
  if (!result.ok()) return unknown_note(result.status().message());
  std::string text = fmt::format("{}", fmt::join(lines, "\n"));
  if (result->exit_code != 0) {
    std::string last = lines.empty() ? "" : ": " + lines.back();
    return unknown_note(fmt::format("exit status {}{}", result->exit_code, last));
  }
  auto parsed = ParseNvidiaSmiGpus(text);
  if (!parsed.ok()) return unknown_note(parsed.status().message());
  for (auto& g : gpus) {
    if (g.mig != MigMode::kUnknown) continue;
    const SmiGpu* match = nullptr;
    for (const auto& s : *parsed) {
      if (!g.uuid.empty() && s.uuid == g.uuid) match = &s;
    }
    for (const auto& s : *parsed) {
      if (match == nullptr && !g.bus_id.empty() && s.bus_id == NormalizeBusId(g.bus_id)) match = &s;
    }
    if (match != nullptr) g.mig = match->mig;
  }
}

}  // namespace

const char* MigModeName(MigMode mode) {
  switch (mode) {
    case MigMode::kDisabled:
      return "disabled";
    case MigMode::kEnabled:
      return "enabled";
    case MigMode::kUnknown:
      break;
  }
  return "unknown";
}

StatusOr<HostGpu> ParseGpuInformation(std::string_view text) {
  HostGpu gpu;
  bool have_minor = false;
  std::string bad_minor;
  ForEachLine(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view key = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (key == "Model") {
      gpu.model = std::string(value);
    } else if (key == "GPU UUID") {
      gpu.uuid = std::string(value);
    } else if (key == "Bus Location") {
      gpu.bus_id = AsciiLower(value);
    } else if (key == "Device Minor") {
      auto minor = ParseInteger<int>(value);
      if (minor && *minor >= 0) {
        gpu.minor = *minor;
        have_minor = true;
      } else {
        bad_minor = std::string(value);
      }
    }
  });
  if (!have_minor) {
    return InvalidArgument(bad_minor.empty()
                               ? std::string("no \"Device Minor:\" line")
                               : fmt::format("\"Device Minor:\" is not a number: {}", bad_minor));
  }
  return gpu;
}

std::string NormalizeBusId(std::string_view bus_id) {
  std::string id = AsciiLower(Trim(bus_id));
  size_t colon = id.find(':');
  if (colon != std::string::npos && colon > 4) {
    std::string_view extra = std::string_view(id).substr(0, colon - 4);
    if (std::all_of(extra.begin(), extra.end(), [](char c) { return c == '0'; })) {
      id.erase(0, colon - 4);
    }
  }
  return id;
}

MigMode MigFromCapabilityEntries(const std::vector<std::string>& mig_dir_entries) {
  for (const auto& name : mig_dir_entries) {
    if (name.size() > 2 && name.compare(0, 2, "gi") == 0 && ParseInteger<int>(std::string_view(name).substr(2))) {
      return MigMode::kEnabled;
    }
  }
  return MigMode::kUnknown;
}

StatusOr<std::vector<SmiGpu>> ParseNvidiaSmiGpus(std::string_view csv) {
  std::vector<SmiGpu> gpus;
  ForEachLine(csv, [&](std::string_view line) {
    std::vector<std::string_view> fields;
    size_t pos = 0;
    while (true) {
      size_t comma = line.find(',', pos);
      fields.push_back(Trim(line.substr(pos, comma == std::string_view::npos ? line.npos : comma - pos)));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    if (fields.size() != 4 || fields[1].rfind("GPU-", 0) != 0) return;
    auto index = ParseInteger<int>(fields[0]);
    if (!index) return;
    gpus.push_back({*index, std::string(fields[1]), MigFromSmiText(fields[2]), NormalizeBusId(fields[3])});
  });
  if (gpus.empty()) {
    std::string first;
    ForEachLine(csv, [&](std::string_view line) {
      if (first.empty() && !Trim(line).empty()) first = std::string(Trim(line));
    });
    return InvalidArgument(first.empty() ? std::string("nvidia-smi listed no GPU")
                                         : fmt::format("nvidia-smi listed no GPU: {}", first));
  }
  return gpus;
}

GpuInventory ReadGpuInventory(const GpuInventoryOptions& options) {
  GpuInventory inv;
  const std::string dev = HostPath(options.dev_root.empty() ? "/" : options.dev_root, "/dev");
  const std::string proc_root = options.proc_root.empty() ? "/" : options.proc_root;
  const std::string gpus_dir = HostPath(proc_root, kGpusDir);
  const std::string caps_dir = HostPath(proc_root, kCapsDir);

  // The device nodes there are, by minor.
  std::map<int, std::string> nodes;
  if (auto names = ListDir(dev)) {
    for (const auto& name : *names) {
      if (auto minor = MinorOfDeviceName(name)) nodes[*minor] = dev + "/" + name;
    }
  }

  auto bus_dirs = IsDirectory(gpus_dir) ? ListDir(gpus_dir) : std::nullopt;
  if (!bus_dirs) {
    // The NVIDIA kernel module makes this directory when it loads (nv_procfs_init).
    for (const auto& [minor, path] : nodes) {
      HostGpu gpu;
      gpu.minor = minor;
      gpu.device_path = path;
      inv.gpus.push_back(std::move(gpu));
    }
    if (!nodes.empty()) {
      inv.warnings.push_back(fmt::format(
          "GPU UUIDs unknown: {} does not exist (NVIDIA kernel module not loaded, or not the "
          "host's /proc: --proc-root); GPUs listed from their device nodes {}/nvidia[0-9]*",
          gpus_dir, dev));
    }
    return inv;
  }

  std::map<int, bool> seen;
  for (const auto& bus : *bus_dirs) {
    std::string file = gpus_dir + "/" + bus + "/information";
    auto text = ReadText(file);
    if (!text) {
      inv.warnings.push_back(fmt::format("GPU {}: cannot read {}; GPU left out", bus, file));
      continue;
    }
    auto parsed = ParseGpuInformation(*text);
    if (!parsed.ok()) {
      inv.warnings.push_back(fmt::format("GPU {}: {}: {}; GPU left out", bus, file, parsed.status().message()));
      continue;
    }
    HostGpu gpu = std::move(parsed).value();
    if (gpu.bus_id.empty()) gpu.bus_id = AsciiLower(bus);
    if (seen[gpu.minor]) {
      inv.warnings.push_back(fmt::format("GPU {}: {} repeats device minor {}; GPU left out", bus, file, gpu.minor));
      continue;
    }
    seen[gpu.minor] = true;
    gpu.device_path = dev + "/nvidia" + std::to_string(gpu.minor);
    if (!Exists(gpu.device_path)) {
      // Not a reason to stop: device nodes may be made on first use (nvidia-modprobe), or the dev
      // root holds fewer GPUs than this procfs (a fake host on a GPU machine). Nothing can be
      // given that GPU, so it is left out, and gpus: naming it says the host has no such GPU.
      inv.warnings.push_back(fmt::format("GPU {} ({}, {}): the driver lists it, but {} does not exist; left out",
                                         gpu.minor, gpu.uuid.empty() ? "UUID unknown" : gpu.uuid, gpu.bus_id,
                                         gpu.device_path));
      continue;
    }
    if (auto entries = ListDir(caps_dir + "/gpu" + std::to_string(gpu.minor) + "/mig")) {
      gpu.mig = MigFromCapabilityEntries(*entries);
    }
    inv.gpus.push_back(std::move(gpu));
  }
  for (const auto& [minor, path] : nodes) {
    if (seen.count(minor) > 0) continue;
    inv.warnings.push_back(fmt::format("device {}: no GPU of {} has device minor {}; listed without UUID", path,
                                       gpus_dir, minor));
    HostGpu gpu;
    gpu.minor = minor;
    gpu.device_path = path;
    inv.gpus.push_back(std::move(gpu));
  }
  std::sort(inv.gpus.begin(), inv.gpus.end(), [](const HostGpu& a, const HostGpu& b) { return a.minor < b.minor; });

  bool unsettled = std::any_of(inv.gpus.begin(), inv.gpus.end(),
                               [](const HostGpu& g) { return g.mig == MigMode::kUnknown && !g.uuid.empty(); });
  if (unsettled && !options.nvidia_smi.empty()) FillMigFromNvidiaSmi(options, inv.gpus, inv.warnings);
  return inv;
}

Status RefuseMig(const std::vector<HostGpu>& gpus) {
  std::vector<std::string> which;
  std::vector<std::string> how;
  for (const auto& g : gpus) {
    if (g.mig != MigMode::kEnabled) continue;
    std::vector<std::string> ids;
    if (!g.uuid.empty()) ids.push_back(g.uuid);
    if (!g.bus_id.empty()) ids.push_back(g.bus_id);
    which.push_back(ids.empty() ? std::to_string(g.minor)
                                : fmt::format("{} ({})", g.minor, fmt::join(ids, ", ")));
    // -i takes an index, a UUID or a bus id; the index is nvidia-smi's PCI order, not the minor.
    how.push_back(fmt::format("nvidia-smi -i {} -mig 0", !g.uuid.empty()     ? g.uuid
                                                         : !g.bus_id.empty() ? g.bus_id
                                                                             : std::to_string(g.minor)));
  }
  if (which.empty()) return Status::Ok();
  return InvalidArgument(fmt::format(
      "GPU{} {} {} MIG enabled: kindmps-api runs MPS on whole GPUs only ({} turn{} MIG off)",
      which.size() > 1 ? "s" : "", fmt::join(which, " and "), which.size() > 1 ? "have" : "has",
      fmt::join(how, "; "), how.size() > 1 ? "" : "s"));
}

Status RefuseMig(const HostInventory& inventory) { return RefuseMig(inventory.gpus); }

}  // namespace kmps::kind
