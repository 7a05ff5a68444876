#include "pod/pod_options.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/text.h"
#include "pod/k8s_name.h"
#include "pod/mps_limits.h"

namespace kmps::pod {
namespace {

// Digits only, at most `max`.
std::optional<int64_t> ParseCount(const std::string& text, int64_t max) {
  if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isdigit(c);
      })) {
    return std::nullopt;
  }
  std::optional<int64_t> v = ParseInteger<int64_t>(text);
  if (!v || *v > max) return std::nullopt;
  return v;
}

Status CheckNode(const std::string& node, const config::ClusterConfig& config) {
  std::vector<std::string> nodes = config::NodeNames(config);
  std::vector<std::string> gpu;
  for (const auto& n : nodes) {
    if (config::IsGpuNode(config, n, config::NodeRole(config, n))) gpu.push_back(n);
  }
  if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) {
    return InvalidArgument(fmt::format("--node {}: cluster {} has no such node; its nodes with MPS: {}", node,
                                       config.name, fmt::join(gpu, ", ")));
  }
  if (std::find(gpu.begin(), gpu.end(), node) == gpu.end()) {
    return InvalidArgument(fmt::format("--node {}: this node of cluster {} has no GPU and no MPS (gpuNodes in "
                                       "kindmps.yaml); pick one of: {}",
                                       node, config.name, fmt::join(gpu, ", ")));
  }
  return Status::Ok();
}

}  // namespace

std::vector<EnvVar> ContainerEnv(const PodMps& mps) {
  std::vector<EnvVar> env = mps.access.env;
  env.insert(env.end(), mps.limit_env.begin(), mps.limit_env.end());
  return env;
}

StatusOr<PodMps> ResolvePodMps(const PodFlags& f, const config::ClusterConfig& config) {
  PodMps mps;
  if (f.threads) {
    KMPS_ASSIGN_OR_RETURN(std::string t, ParseThreadPercentage(*f.threads));
    mps.limit_env.push_back({kThreadPercentageEnv, t});
  }
  if (f.pinned_mem) {
    KMPS_ASSIGN_OR_RETURN(std::string p, ParsePinnedMemLimit(*f.pinned_mem));
    mps.limit_env.push_back({kPinnedMemLimitEnv, p});
  }
  mps.run_as_user = config.mps.server_uid;
  if (f.uid) {
    std::optional<int64_t> uid = ParseCount(*f.uid, INT32_MAX);
    if (!uid) return InvalidArgument(fmt::format("--uid \"{}\": expected a user id, a non-negative integer", *f.uid));
    if (*uid != config.mps.server_uid) {
      return InvalidArgument(fmt::format(
          "--uid {}: the MPS server of cluster {} runs as uid {}, and a client of another uid waits forever; leave "
          "--uid out, or set mps.serverUid: {} in kindmps.yaml and run kindmps-api up",
          *uid, config.name, config.mps.server_uid, *uid));
    }
  }
  std::optional<std::string> node;
  if (!f.node.empty()) {
    KMPS_RETURN_IF_ERROR(CheckNode(f.node, config));
    node = f.node;
    mps.node_selector = {kHostnameLabel, f.node};
  } else {
    mps.node_selector = {kMpsNodeLabel, kMpsNodeLabelValue};
  }
  KMPS_ASSIGN_OR_RETURN(AccessMode mode, ParseAccessMode(f.access));
  std::string pipe = config.mps.pipe_directory;
  std::optional<GpuDaemon> per_gpu;
  if (config.mps.daemons == config::MpsSettings::Daemons::kPerGpu) {
    // A daemon per GPU: a Pod reaches one GPU's, in its own pipe directory; through CDI also any
    // GPU's, which the device plugin picks.
    if (!f.gpu_daemon && mode == AccessMode::kHostPath) {
      return InvalidArgument(fmt::format("cluster {} runs an MPS daemon per GPU (mps.daemons perGpu): choose the "
                                         "GPU with --gpu (a device minor or UUID; kindmps-api status lists them), "
                                         "or let the device plugin choose with --access cdi",
                                         config.name));
    }
    if (f.gpu_daemon) pipe = config::GpuPipeDirectory(pipe, *f.gpu_daemon);
    per_gpu = GpuDaemon{f.gpu_daemon};
  }
  mps.access = BuildMpsAccess(pipe, node, mode, per_gpu);
  return mps;
}

StatusOr<ManifestRequest> ResolveManifestRequest(const PodFlags& f, const config::ClusterConfig& config) {
  ManifestRequest r;
  KMPS_RETURN_IF_ERROR(ValidateDns1123Label(f.name, "NAME"));
  r.name = f.name;
  if (f.image.empty() || std::any_of(f.image.begin(), f.image.end(), [](unsigned char c) { return c <= ' '; })) {
    return InvalidArgument(f.image.empty() ? "--image is required: the container image the Pod runs, e.g. "
                                             "--image nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04"
                                           : fmt::format("--image \"{}\": an image reference has no blanks", f.image));
  }
  r.image = f.image;
  r.command = f.command;
  std::string kind = f.kind.value_or("Pod");
  if (kind == "Pod") {
    r.kind = WorkloadKind::kPod;
  } else if (kind == "Deployment") {
    r.kind = WorkloadKind::kDeployment;
  } else if (kind == "Job") {
    r.kind = WorkloadKind::kJob;
  } else {
    return InvalidArgument(fmt::format("--kind \"{}\": expected Pod, Deployment or Job", kind));
  }
  if (f.replicas) {
    std::optional<int64_t> n = ParseCount(*f.replicas, 10000);
    if (!n || *n < 1) {
      return InvalidArgument(fmt::format("--replicas \"{}\": expected an integer from 1 to 10000", *f.replicas));
    }
    if (r.kind == WorkloadKind::kPod && *n != 1) {
      return InvalidArgument(fmt::format("--replicas {}: a Pod is one replica; add --kind Deployment (or --kind Job) "
                                         "for {} Pods",
                                         *n, *n));
    }
    r.replicas = static_cast<int>(*n);
  }
  KMPS_ASSIGN_OR_RETURN(r.mps, ResolvePodMps(f, config));
  return r;
}

StatusOr<PodMps> ResolvePatchRequest(const PodFlags& f, const config::ClusterConfig& config) {
  auto refuse = [](const char* what) {
    return InvalidArgument(fmt::format("{} describes a generated manifest and does not go with --patch, which keeps "
                                       "the file's own; remove it",
                                       what));
  };
  if (!f.name.empty()) return refuse("NAME");
  if (!f.image.empty()) return refuse("--image");
  if (f.replicas) return refuse("--replicas");
  if (f.kind) return refuse("--kind");
  if (!f.command.empty()) return refuse("a command after --");
  return ResolvePodMps(f, config);
}

}  // namespace kmps::pod
