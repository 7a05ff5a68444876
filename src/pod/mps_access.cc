#include "pod/mps_access.h"

#include <fmt/core.h>

#include "config/config.h"

namespace kmps::pod {

StatusOr<AccessMode> ParseAccessMode(std::string_view text) {
  if (text == "hostpath") return AccessMode::kHostPath;
  if (text == "cdi") return AccessMode::kCdi;
  return InvalidArgument(fmt::format("--access \"{}\": expected hostpath (a hostPath volume of the MPS pipe "
                                     "directory) or cdi (the node's CDI device {})",
                                     text, kCdiDeviceKind));
}

std::string MpsGpuResource(int minor) { return fmt::format("{}-gpu{}", kMpsResource, minor); }

MpsAccess BuildMpsAccess(const std::string& pipe_directory, const std::optional<std::string>& node, AccessMode mode,
                         const std::optional<GpuDaemon>& per_gpu) {
  MpsAccess a;
  const bool any_gpu = per_gpu && !per_gpu->gpu && mode == AccessMode::kCdi;
  if (!any_gpu) a.env.push_back({kPipeDirectoryEnv, pipe_directory});
  switch (mode) {
    case AccessMode::kHostPath:
      a.volumes.push_back({kPipeVolumeName, pipe_directory, "Directory"});
      a.volume_mounts.push_back({kPipeVolumeName, pipe_directory, false});
      // A client needs `control`; `control_privileged` takes quit and settings from root.
      a.volumes.push_back({kMaskVolumeName, "/dev/null", "CharDevice"});
      a.volume_mounts.push_back({kMaskVolumeName, config::PrivilegedSocketPath(pipe_directory), true});
      break;
    case AccessMode::kCdi:
      // The node's device plugin (kindmps-device-plugin in the kindmps node image) answers the
      // request with its CDI device: kubelet passes pod annotations to the sandbox only, never
      // to containerd's CDI injection, so a device request is the way in.
      (void)node;
      a.container_limits.push_back({per_gpu && per_gpu->gpu ? MpsGpuResource(*per_gpu->gpu) : kMpsResource, "1"});
      break;
  }
  return a;
}

}  // namespace kmps::pod
