// Host inspection: the NVIDIA driver files as the dynamic loader would find them, the MPS
// binaries, the device nodes and CDI specs, under a driver root and a dev root.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/config.h"
#include "kind/gpu_inventory.h"

namespace kmps::kind {

struct HostLibrary {
  std::string soname;       // libcuda.so.1
  std::string link_path;    // where the loader finds the soname (host path, driver root included)
  std::string real_path;    // the file it resolves to (host path)
  std::string version;      // from the file name: libcuda.so.580.159.04 -> 580.159.04; may be empty
  bool required = true;
};

struct HostBinary {
  std::string name;       // nvidia-cuda-mps-control
  std::string path;       // host path
  std::string real_path;  // symlinks resolved
  bool required = true;
};

struct HostDevice {
  std::string path;  // host path, e.g. /dev/nvidia0
  int major = 0, minor = 0;
};

struct HostInventory {
  std::string driver_root;
  std::string dev_root;
  std::vector<HostLibrary> libraries;  // found ones, required first
  std::vector<HostBinary> binaries;    // found ones
  std::vector<HostDevice> devices;
  // Every GPU, sorted by device minor, from the driver's procfs (gpu_inventory.h); the JSON's
  // "gpus". The minor is not nvidia-smi's index (PCI order) nor CUDA's (CUDA_VISIBLE_DEVICES
  // renumbers): name a GPU to CUDA by its UUID.
  std::vector<HostGpu> gpus;
  std::vector<std::string> cdi_specs;  // host paths
  // Same order as cdi_specs: each spec's path inside the driver root (where the node gets it).
  std::vector<std::string> cdi_spec_inside;
  std::string driver_version;          // from libcuda's file name, may be empty
  // Everything required that was not found, each "what: where it looked / why" (one line each).
  std::vector<std::string> missing;
  // Optional items not found, and other notes.
  std::vector<std::string> warnings;

  bool complete() const { return missing.empty(); }
  nlohmann::json ToJson() const;
};

struct InspectOptions {
  std::string driver_root = "/";
  std::string dev_root = "/";
  // Where the driver's procfs is read: <proc_root>/proc/driver/nvidia (the GPUs, their UUIDs and
  // MIG state). "/" is the host's, also with another driver root.
  std::string proc_root = "/";
  // Ask the driver root's nvidia-smi (when there is one) for the MIG state procfs cannot tell.
  bool query_nvidia_smi = true;
};

// Where a cluster config says the driver, its device nodes and its procfs are.
InspectOptions InspectOptionsFor(const config::ClusterConfig& config);

// Never fails for a missing driver: that is recorded in `missing`. Fails only for unusable
// options (a driver root that does not exist is itself reported in `missing`).
HostInventory InspectHost(const InspectOptions& options);

// kEnvironment listing every missing item (one line, "; "-separated), or ok.
Status RequireComplete(const HostInventory& inventory);

// For the CLI: a summary line, then each missing item on its own indented line, then a hint.
// Empty when complete.
std::string DescribeMissing(const HostInventory& inventory);

// What the inspection looks for.
struct WantedLibrary {
  const char* soname;
  bool required;
};
const std::vector<WantedLibrary>& WantedLibraries();  // libcuda.so.1, ... (required first)
struct WantedBinary {
  const char* name;
  bool required;
};
const std::vector<WantedBinary>& WantedBinaries();
// Binary directories searched inside the driver root, in order.
const std::vector<std::string>& BinaryDirs();

// The driver version in a library's real file name: ("libcuda.so.1", "libcuda.so.580.159.04")
// -> "580.159.04"; "" when the name carries none (e.g. the file is libcuda.so.1 itself).
std::string VersionFromFileName(const std::string& soname, const std::string& file_name);

}  // namespace kmps::kind
