// Checks on the hostPaths of the kind config before kind passes them to Docker. Docker creates
// a missing bind-mount source as an empty root-owned directory (a missing libcuda.so.<version>
// becomes a directory, and stays one), and refuses a propagated mount (:rslave, :rshared) whose
// source lies on a private mount, after kind has made some of the nodes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "kind/host_inspect.h"

namespace kmps::kind {

// How a path that must be a file but is a directory is described ("<path> is a directory, ...").
inline constexpr const char* kDirectoryNotFile =
    "is a directory, not a file (as Docker leaves where a mount source was missing)";

// The user's extraMounts: kInvalidArgument "extraMounts: hostPath X does not exist: create it, or
// fix extraMounts in kindmps.yaml" for the first mount whose host path is missing (another reason
// stat(2) failed, e.g. "Permission denied", in place of "does not exist").
Status CheckHostPathsExist(const std::vector<config::ExtraMount>& mounts);

// The driver's mounts (GpuMounts): kEnvironment naming the first host path that is missing, a
// directory, or anything but a regular file (symlinks followed).
Status CheckDriverFiles(const std::vector<config::ExtraMount>& mounts);

// kInvalidArgument for the first mount with propagation HostToContainer (Docker's :rslave) or
// Bidirectional (:rshared) whose hostPath (symlinks resolved) lies on a mount that `mountinfo`
// (the text of /proc/self/mountinfo) shows not shared (Bidirectional) or neither shared nor a
// slave (HostToContainer). The message names the path, the mount point and both fixes.
Status CheckPropagation(const std::vector<config::ExtraMount>& mounts, std::string_view mountinfo);

// Whether our /proc/self/mountinfo is the Docker daemon's as far as we can tell: DOCKER_HOST
// (`docker_host`) unset, empty or a local unix:// socket.
bool MountTableIsTheDaemons(const char* docker_host);

// Every hostPath of the kind config `config` and `inventory` render: the driver's files (exit 3),
// then the user's extraMounts (exit 2), then their propagation against /proc/self/mountinfo (only
// where MountTableIsTheDaemons(getenv("DOCKER_HOST"))).
Status CheckKindConfigHostPaths(const config::ClusterConfig& config, const HostInventory& inventory);

}  // namespace kmps::kind
