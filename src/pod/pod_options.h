// `kindmps-api pod`'s flags, checked against the cluster's saved config: what MPS asks of every
// Pod (PodMps), and for a generated manifest what the Pod runs (ManifestRequest). Pure: the
// caller loads the config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "kind/kind_render.h"
#include "pod/mps_access.h"

namespace kmps::pod {

// The node label that `up` gives GPU nodes (kind/kind_render.h), and what the Pods select by
// default.
using kind::kMpsNodeLabel;
using kind::kMpsNodeLabelValue;
// kind gives each node this label with the node container's name.
inline constexpr const char* kHostnameLabel = "kubernetes.io/hostname";

// The flags as typed (numbers as text, so that every refusal can say what was wrong).
struct PodFlags {
  std::string name;              // NAME (generate)
  std::string image;             // --image (generate)
  std::string cluster;           // --name (empty: the default cluster)
  std::string node;              // --node (empty: any node labelled kindmps.dev/mps=ready)
  std::optional<std::string> threads;     // --threads
  std::optional<std::string> pinned_mem;  // --pinned-mem
  std::optional<std::string> uid;         // --uid
  std::optional<std::string> replicas;    // --replicas (generate)
  std::optional<std::string> kind;        // --kind (generate)
  std::string access = "hostpath";        // --access
  std::optional<std::string> patch;       // --patch FILE|-
  std::vector<std::string> command;       // -- CMD ARGS...
  // With mps.daemons perGpu, the daemon --gpu found (asked of the cluster): its GPU's minor.
  std::optional<int> gpu_daemon = std::nullopt;
};

// What every Pod that uses the node's MPS gets.
struct PodMps {
  MpsAccess access;
  std::vector<EnvVar> limit_env;  // CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, CUDA_MPS_PINNED_DEVICE_MEM_LIMIT
  KeyValue node_selector;         // kindmps.dev/mps=ready, or kubernetes.io/hostname=NODE
  int64_t run_as_user = 0;        // the MPS server's uid
};

// Every container's env: the access's, then the limits.
std::vector<EnvVar> ContainerEnv(const PodMps& mps);

enum class WorkloadKind { kPod, kDeployment, kJob };

struct ManifestRequest {
  std::string name;
  std::string image;
  std::vector<std::string> command;  // empty: the image's entrypoint
  WorkloadKind kind = WorkloadKind::kPod;
  int replicas = 1;
  PodMps mps;
};

// The limits, node, uid and access flags against `config` (the cluster `up` saved):
// --node must be a node of the cluster that runs MPS; --uid must be mps.serverUid.
StatusOr<PodMps> ResolvePodMps(const PodFlags& flags, const config::ClusterConfig& config);

// NAME, --image, --kind, --replicas and the command, then ResolvePodMps.
StatusOr<ManifestRequest> ResolveManifestRequest(const PodFlags& flags, const config::ClusterConfig& config);

// For --patch: refuses the flags that only describe a generated manifest, then ResolvePodMps.
StatusOr<PodMps> ResolvePatchRequest(const PodFlags& flags, const config::ClusterConfig& config);

}  // namespace kmps::pod
