// The kindmps.yaml model: what the user asks for (types, defaults, and what only the whole config
// can tell). Reading it is decode.h; command-line flags over it are overrides.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kmps::config {

inline constexpr const char* kDefaultClusterName = "workshop-dra";

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
};

// The daemon's privileged socket in the pipe directory: root's (srwxr-xr-x) and, as a Pod sees
// the pipe directory, masked with /dev/null (the CDI edits and the hostPath access do it), so that
// a root process in a Pod still cannot reach it.
inline constexpr const char* kPrivilegedSocketName = "control_privileged";
inline std::string PrivilegedSocketPath(const std::string& pipe_directory) {
  return pipe_directory + "/" + kPrivilegedSocketName;
}

struct ClusterConfig {
  std::string name;            // default: $KIND_CLUSTER_NAME, else workshop-dra
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
};

// Defaults, with $KIND_CLUSTER_NAME applied.
ClusterConfig DefaultClusterConfig();

// What every kindmps.yaml says it is: `apiVersion: kindmps.dev/v1alpha1` and `kind: Config`.
inline constexpr const char* kConfigApiVersion = "kindmps.dev/v1alpha1";
inline constexpr const char* kConfigKind = "Config";

// The file `config` and `up` read when --config is not given, from the working directory.
inline constexpr const char* kDefaultConfigFile = "kindmps.yaml";

inline constexpr int kMaxWorkers = 100;

// kind's rule for cluster names: ^[a-z0-9.-]+$.
bool IsValidClusterName(const std::string& name);

// The node container names kind gives a cluster: <name>-control-plane, <name>-worker, -worker2...
std::vector<std::string> NodeNames(const ClusterConfig& config);
// Whether node `node_name` (of `role`) gets the GPU and MPS.
bool IsGpuNode(const ClusterConfig& config, const std::string& node_name, const std::string& role);
// The role kind gives node `node_name` of `config`: "control-plane" or "worker".
std::string NodeRole(const ClusterConfig& config, const std::string& node_name);

// Checks what only the whole config can tell: the cluster name (kind's ^[a-z0-9.-]+$), the
// worker count, and that every gpuNodes entry names a node or a role of this cluster.
Status ValidateClusterConfig(const ClusterConfig& config);

}  // namespace kmps::config
