// The host's GPUs as the NVIDIA kernel module lists them: one directory a GPU under
// /proc/driver/nvidia/gpus/<PCI bus id>/ whose `information` file names its model, UUID, bus
// location and device minor (kernel-open/nvidia/nv-procfs.c, nv_procfs_read_gpu_info), and MIG
// state from /proc/driver/nvidia/capabilities/gpu<minor>/mig/ (see ReadMigFromProcfs), with
// `nvidia-smi` as an optional second opinion. Parsers are pure; ReadGpuInventory reads the files.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kmps::kind {

struct HostInventory;

enum class MigMode { kUnknown, kDisabled, kEnabled };
// "unknown", "disabled", "enabled" (the JSON's "mig").
const char* MigModeName(MigMode mode);

struct HostGpu {
  int minor = -1;           // N of /dev/nvidiaN ("Device Minor"); the list is sorted by it
  std::string uuid;         // GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx; "" when unknown
  std::string model;        // NVIDIA H200
  std::string bus_id;       // 0000:19:00.0, as procfs writes it ("" when unknown)
  std::string device_path;  // host path of /dev/nvidia<minor> under the dev root
  MigMode mig = MigMode::kUnknown;
};

// One `information` file: "Model: \t\t NVIDIA H200", "GPU UUID: \t GPU-...", "Bus Location: \t
// 0000:19:00.0", "Device Minor: \t 0", ... (other lines ignored). kInvalidArgument when it has no
// usable "Device Minor". device_path and mig are left as they are.
StatusOr<HostGpu> ParseGpuInformation(std::string_view text);

// "00000000:19:00.0" (NVML, nvidia-smi) or "0000:19:00.0" (procfs) -> "0000:19:00.0": lower case,
// the domain cut to 4 digits when its extra leading digits are zeros.
std::string NormalizeBusId(std::string_view bus_id);

// MIG as procfs shows it, from the names in capabilities/gpu<minor>/mig/: a "gi<N>" entry (a GPU
// instance) exists only while MIG is enabled, so it means kEnabled; without one procfs cannot
// tell MIG disabled from MIG enabled with no instance created yet: kUnknown.
MigMode MigFromCapabilityEntries(const std::vector<std::string>& mig_dir_entries);

// One line of `nvidia-smi --query-gpu=index,uuid,mig.mode.current,pci.bus_id
// --format=csv,noheader`. index is nvidia-smi's (PCI bus order), not the device minor.
struct SmiGpu {
  int index = -1;
  std::string uuid;
  MigMode mig = MigMode::kUnknown;  // Enabled, Disabled; [N/A] (no MIG support) counts as disabled
  std::string bus_id;               // normalized (NormalizeBusId)
};
// Lines that are not four fields with a GPU- UUID (stderr merged in, say) are skipped;
// kInvalidArgument when no line is a GPU.
StatusOr<std::vector<SmiGpu>> ParseNvidiaSmiGpus(std::string_view csv);

struct GpuInventoryOptions {
  std::string proc_root = "/";  // procfs is <proc_root>/proc
  std::string dev_root = "/";   // device nodes are <dev_root>/dev/nvidia<minor>
  // Host path of an nvidia-smi to ask when procfs cannot tell a GPU's MIG state; "" never.
  std::string nvidia_smi;
  std::chrono::milliseconds nvidia_smi_timeout{10'000};
};

struct GpuInventory {
  std::vector<HostGpu> gpus;          // sorted by minor
  std::vector<std::string> missing;   // nothing today (a GPU without its device node is a warning)
  std::vector<std::string> warnings;  // no procfs, unreadable files, nvidia-smi failures
};

// Never fails: what it cannot read becomes a warning. Without <proc_root>/proc/driver/nvidia/gpus
// (no driver loaded, or a /proc that is not the host's) the GPUs are the dev root's
// /dev/nvidia[0-9]* nodes, with empty UUIDs, and a warning says so.
GpuInventory ReadGpuInventory(const GpuInventoryOptions& options);

// kInvalidArgument, one line, when a GPU has MIG enabled ("GPU 0 (GPU-..., 0000:19:00.0) has MIG
// enabled: kindmps-api runs MPS on whole GPUs only (nvidia-smi -i GPU-... -mig 0 turns MIG off)";
// several GPUs in the same line); ok otherwise, also for GPUs whose MIG state is unknown.
Status RefuseMig(const std::vector<HostGpu>& gpus);
Status RefuseMig(const HostInventory& inventory);

}  // namespace kmps::kind
