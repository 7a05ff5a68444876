// The kindmps.yaml model: what the user asks for (types, defaults, and what only the whole config
// can tell). Reading it is decode.h; command-line flags over it are overrides.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/gpu_assignment.h"

namespace kmps::config {

// kind's default cluster name, so that `kindmps-api` and `kind` mean the same cluster unasked.
inline constexpr const char* kDefaultClusterName = "kind";

struct ExtraMount {
  std::string host_path;
  std::string container_path;
  bool read_only = true;
  std::string propagation;  // "", "None", "HostToContainer", "Bidirectional"
};

// The uid MPS clients run as unless mps.serverUid says otherwise: not root, so that a Pod can
// neither quit the node's daemon nor change its settings (the daemon takes those only from root
// or its owner, docs/pod.md), and the one uid every Pod shares, as MPS runs one server per uid.
inline constexpr int kDefaultServerUid = 1000;

struct MpsSettings {
  std::string pipe_directory = "/tmp/nvidia-mps";
  std::string log_directory = "/var/log/nvidia-mps";
  bool start_server = true;  // `up` runs start_server -uid <server_uid>
  int server_uid = kDefaultServerUid;
  std::optional<double> default_active_thread_percentage;  // 0 < p <= 100
  // set_default_device_pinned_mem_limit <device> <limit>, e.g. {"0", "2G"}
  struct PinnedLimit {
    std::string device;
    std::string limit;
  };
  std::vector<PinnedLimit> pinned_device_memory_limits;
  // How many control daemons a GPU node runs: one over the node's GPUs (perNode, the default), or
  // one per GPU (perGpu), each in its own pipe and log directory (GpuPipeDirectory) and with
  // CUDA_VISIBLE_DEVICES set to its GPU's UUID, so that its clients run on that GPU alone.
  enum class Daemons { kPerNode, kPerGpu };
  Daemons daemons = Daemons::kPerNode;
  // perGpu only: settings of one GPU's daemon, over the ones above. Each daemon sees its GPU as
  // CUDA device 0, so a pinned limit here is that device's.
  struct GpuSettings {
    std::string gpu;  // device minor or UUID (gpu_assignment.h's GpuRefProblem)
    std::optional<double> default_active_thread_percentage = std::nullopt;
    std::string pinned_device_memory_limit = "";  // e.g. "2G"; "" for none
    bool operator==(const GpuSettings&) const = default;
  };
  std::vector<GpuSettings> per_gpu = {};
};

// "perNode" / "perGpu", as kindmps.yaml and the state file spell mps.daemons.
std::string DaemonsText(MpsSettings::Daemons daemons);
// Those, and the flag's "per-node" / "per-gpu"; kInvalidArgument naming both spellings.
StatusOr<MpsSettings::Daemons> ParseDaemons(std::string_view text);

// A per-GPU daemon's directories: <pipeDirectory>/gpu<minor>, <logDirectory>/gpu<minor>.
inline std::string GpuPipeDirectory(const std::string& base, int minor) {
  return base + "/gpu" + std::to_string(minor);
}

// The daemon's privileged socket in the pipe directory: root's (srwxr-xr-x) and, as a Pod sees
// the pipe directory, masked with /dev/null (the CDI edits and the hostPath access do it), so that
// a root process in a Pod still cannot reach it.
inline constexpr const char* kPrivilegedSocketName = "control_privileged";
inline std::string PrivilegedSocketPath(const std::string& pipe_directory) {
  return pipe_directory + "/" + kPrivilegedSocketName;
}

struct ClusterConfig {
  std::string name;            // default: $KIND_CLUSTER_NAME, else kind
  std::string image;           // node image; empty: kind's default
  int workers = 0;             // default: the single control-plane node
  // Which nodes get the GPU: empty = all; else node names or roles ("control-plane", "worker").
  std::vector<std::string> gpu_nodes;
  std::vector<ExtraMount> extra_mounts;  // added to every node
  std::vector<std::string> containerd_config_patches;
  std::vector<std::string> kubeadm_config_patches;
  std::string shm_size = "8g";  // as given (for messages)
  uint64_t shm_bytes = 8ull << 30;
  MpsSettings mps;
  std::string driver_root = "/";
  std::string dev_root = "/";
  std::string proc_root = "/";  // where the driver's procfs is: <procRoot>/proc/driver/nvidia
  GpuAssignment gpus;           // which GPUs each GPU node gets (gpu_assignment.h)
  // The user's own kind config merged into ours (kind_config.h): --kind-config or kindConfig, as
  // a path (for messages), and its text, read by ReadKindConfigFile before anything runs.
  std::string kind_config_file = "";
  std::string kind_config_text = "";
};

// Defaults, with $KIND_CLUSTER_NAME applied.
ClusterConfig DefaultClusterConfig();

// What every kindmps.yaml says it is: `apiVersion: kindmps.dev/v1alpha1` and `kind: Config`.
inline constexpr const char* kConfigApiVersion = "kindmps.dev/v1alpha1";
inline constexpr const char* kConfigKind = "Config";

// The file `config` and `up` read when --config is not given, from the working directory.
inline constexpr const char* kDefaultConfigFile = "kindmps.yaml";

inline constexpr int kMaxWorkers = 100;

// The longest cluster name: kind names its first node <name>-control-plane, which Docker makes the
// node's hostname, and a hostname label holds at most 63 characters.
inline constexpr size_t kMaxClusterNameLength = 63 - sizeof("-control-plane") + 1;

// Why `name` cannot name a cluster, "" when it can: kind's rule (^[a-z0-9.-]+$), at most
// kMaxClusterNameLength characters, and neither a leading '-' (it would read as a flag) nor a
// leading '.' (".." would lead out of the state directory). Every command checks its name
// with it, through ValidateClusterConfig or cluster::LoadSavedConfig.
std::string ClusterNameProblem(const std::string& name);


// The largest /dev/shm asked for: 4 TiB, more memory than any host this runs on has (a tmpfs
// takes any size; a size past the host's memory only fails later, in a Pod).
inline constexpr uint64_t kMaxShmBytes = 4ull << 40;
// Why `bytes` cannot be /dev/shm's size, "" when it can.
std::string ShmSizeProblem(uint64_t bytes);

// The most GPUs a host has (and one more than the device numbers MPS takes).
inline constexpr uint64_t kMaxGpus = 64;
// The largest pinned device memory limit: 1 TiB, more than any GPU has.
inline constexpr uint64_t kMaxPinnedLimitMiB = 1ull << 20;

// Why `device` cannot be a pinnedDeviceMemoryLimits device, "" when it can: a GPU's number as
// MPS takes it, 0 to kMaxGpus - 1, without leading zeros.
std::string PinnedDeviceProblem(const std::string& device);
// Why `limit` cannot be a pinned device memory limit, "" when it can: a whole number of M or G,
// more than zero and at most kMaxPinnedLimitMiB MiB, e.g. 512M or 2G.
std::string PinnedLimitProblem(const std::string& limit);

// The node container names kind gives a cluster: <name>-control-plane, <name>-worker, -worker2...
std::vector<std::string> NodeNames(const ClusterConfig& config);
// Whether node `node_name` (of `role`) gets the GPU and MPS.
bool IsGpuNode(const ClusterConfig& config, const std::string& node_name, const std::string& role);
// The role kind gives node `node_name` of `config`: "control-plane" or "worker".
std::string NodeRole(const ClusterConfig& config, const std::string& node_name);

// Checks what only the whole config can tell: the cluster name (ClusterNameProblem, e.g. one
// from $KIND_CLUSTER_NAME), the worker count, the pinned limits (for configs not read from YAML), and that every gpuNodes entry names a node or a role of this cluster.
Status ValidateClusterConfig(const ClusterConfig& config);
// The part of it that checks mps.daemons against mps.perGpu and the pinned limits: perGpu
// settings only with perGpu daemons, each GPU named once and validly, its values in range, and
// with perGpu daemons no global pinned limit for a device other than 0.
Status ValidatePerGpuSettings(const MpsSettings& mps);

}  // namespace kmps::config
