// How a container reaches the node's MPS, as one value: what to add to a Pod (template). The
// manifest generator and the patcher only apply this value; which mode built it is known here
// alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kmps::pod {

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

struct HostPathVolume {
  std::string name;
  std::string path;
  std::string type;  // hostPath type, e.g. "Directory"
  bool operator==(const HostPathVolume&) const = default;
};

struct VolumeMount {
  std::string name;
  std::string mount_path;
  bool read_only = false;
  bool operator==(const VolumeMount&) const = default;
};

// What to add: pod-template annotations, and per container resource limits, volume mounts and
// env; volumes per Pod.
struct MpsAccess {
  std::vector<KeyValue> pod_annotations;
  std::vector<KeyValue> container_limits;  // resources.limits: name -> quantity
  std::vector<HostPathVolume> volumes;
  std::vector<VolumeMount> volume_mounts;
  std::vector<EnvVar> env;
  bool operator==(const MpsAccess&) const = default;
};

enum class AccessMode {
  kHostPath,  // a hostPath volume of the pipe directory, mounted at the same path
  kCdi,       // one kMpsResource device, which the node's device plugin gives as its CDI device
};

inline constexpr const char* kPipeDirectoryEnv = "CUDA_MPS_PIPE_DIRECTORY";
inline constexpr const char* kPipeVolumeName = "kindmps-mps-pipe";
// /dev/null over the daemon's privileged socket (config::kPrivilegedSocketName), with hostPath access.
inline constexpr const char* kMaskVolumeName = "kindmps-mps-privileged-mask";
// The extended resource the kindmps device plugin advertises on every node where `up` wrote the
// CDI spec (kind kindmps.dev/mps, one device per node, named after it, and with a daemon per GPU
// one per GPU, <node>-gpu<N>): 48 devices per GPU, each answered with its GPU's CDI device.
inline constexpr const char* kMpsResource = "kindmps.dev/mps";
inline constexpr const char* kCdiDeviceKind = "kindmps.dev/mps";
// With a daemon per GPU the plugin also advertises kindmps.dev/mps-gpu<N>, GPU N's devices alone.
std::string MpsGpuResource(int minor);

// With mps.daemons perGpu, which daemon a Pod reaches: GPU `gpu`'s (its minor), or any GPU's
// (none; --access cdi only: the device plugin picks the GPU and its CDI device sets the pipe
// directory).
struct GpuDaemon {
  std::optional<int> gpu;
};

// "hostpath" or "cdi"; anything else is kInvalidArgument naming --access and the choices.
StatusOr<AccessMode> ParseAccessMode(std::string_view text);

// What a Pod needs to reach MPS through `pipe_directory` on `node` (none: any GPU node), with a
// daemon per GPU through `per_gpu`'s.
MpsAccess BuildMpsAccess(const std::string& pipe_directory, const std::optional<std::string>& node, AccessMode mode,
                         const std::optional<GpuDaemon>& per_gpu = std::nullopt);

}  // namespace kmps::pod
