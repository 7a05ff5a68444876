// Pure functions: the pass-through mounts for a host, and the kind Cluster config rendering.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "kind/host_inspect.h"

namespace kmps::kind {

// readOnly mounts that pass the driver through to a GPU node: each library's real file at
// /usr/lib/x86_64-linux-gnu/<soname>, the binaries at /usr/bin/<name>, each CDI spec at its own
// path. No two share a container path.
// The label every GPU node gets through kind's node `labels`: kindmps.dev/mps=ready.
inline constexpr const char* kMpsNodeLabel = "kindmps.dev/mps";
inline constexpr const char* kMpsNodeLabelValue = "ready";

std::vector<config::ExtraMount> GpuMounts(const HostInventory& inventory);
// Where a GPU node has `lib` (its extraMount's container path).
std::string NodeLibraryPath(const HostLibrary& lib);

// A kind Cluster (apiVersion kind.x-k8s.io/v1alpha4), byte-for-byte deterministic.
// kInvalidArgument if two mounts of one node share a container path.
StatusOr<std::string> RenderKindConfig(const config::ClusterConfig& config, const HostInventory& inventory);

// The containerd patch added when the host has CDI specs.
inline constexpr const char* kEnableCdiPatch =
    "[plugins.\"io.containerd.grpc.v1.cri\"]\n  enable_cdi = true\n";

}  // namespace kmps::kind
