#include "pod/mps_access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::pod {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(PodMpsAccess, HostPathMountsThePipeDirectoryAtTheSamePath) {
  MpsAccess a = BuildMpsAccess("/run/mps", std::nullopt, AccessMode::kHostPath);
  EXPECT_THAT(a.env, ElementsAre(EnvVar{"CUDA_MPS_PIPE_DIRECTORY", "/run/mps"}));
  // The daemon's privileged socket masked with /dev/null, read-only: a client needs only `control`.
  EXPECT_THAT(a.volumes, ElementsAre(HostPathVolume{"kindmps-mps-pipe", "/run/mps", "Directory"},
                                     HostPathVolume{"kindmps-mps-privileged-mask", "/dev/null", "CharDevice"}));
  EXPECT_THAT(a.volume_mounts, ElementsAre(VolumeMount{"kindmps-mps-pipe", "/run/mps", false},
                                           VolumeMount{"kindmps-mps-privileged-mask", "/run/mps/control_privileged", true}));
  EXPECT_THAT(a.pod_annotations, IsEmpty());
  EXPECT_THAT(a.container_limits, IsEmpty());
  EXPECT_EQ(BuildMpsAccess("/run/mps", "c-worker", AccessMode::kHostPath), a);  // the node does not matter
}

TEST(PodMpsAccess, CdiAsksTheDevicePluginForOneMpsDevice) {
  MpsAccess any = BuildMpsAccess("/tmp/nvidia-mps", std::nullopt, AccessMode::kCdi);
  // Not an annotation: kubelet hands pod annotations to the sandbox only, never to CDI.
  EXPECT_THAT(any.pod_annotations, IsEmpty());
  EXPECT_THAT(any.container_limits, ElementsAre(KeyValue{"kindmps.dev/mps", "1"}));
  EXPECT_THAT(any.env, ElementsAre(EnvVar{"CUDA_MPS_PIPE_DIRECTORY", "/tmp/nvidia-mps"}));
  EXPECT_THAT(any.volumes, IsEmpty());
  EXPECT_THAT(any.volume_mounts, IsEmpty());
  // The node is chosen by the nodeSelector; its plugin names its own CDI device.
  EXPECT_EQ(BuildMpsAccess("/tmp/nvidia-mps", "c-worker2", AccessMode::kCdi), any);
}

TEST(PodMpsAccess, WithADaemonPerGpuCdiAsksForOneGpusDevicesOrLetsThePluginChoose) {
  MpsAccess one = BuildMpsAccess("/tmp/nvidia-mps/gpu1", "c-worker", AccessMode::kCdi, GpuDaemon{1});
  EXPECT_THAT(one.container_limits, ElementsAre(KeyValue{"kindmps.dev/mps-gpu1", "1"}));
  EXPECT_THAT(one.env, ElementsAre(EnvVar{"CUDA_MPS_PIPE_DIRECTORY", "/tmp/nvidia-mps/gpu1"}));
  // Any GPU: the plugin picks one, and its CDI device sets the pipe directory (a variable of the
  // Pod's would name none of the daemons').
  MpsAccess any = BuildMpsAccess("/tmp/nvidia-mps", std::nullopt, AccessMode::kCdi, GpuDaemon{});
  EXPECT_THAT(any.container_limits, ElementsAre(KeyValue{"kindmps.dev/mps", "1"}));
  EXPECT_THAT(any.env, IsEmpty());
  // hostPath reaches the one pipe directory it is given.
  MpsAccess host = BuildMpsAccess("/tmp/nvidia-mps/gpu1", std::nullopt, AccessMode::kHostPath, GpuDaemon{1});
  EXPECT_EQ(host, BuildMpsAccess("/tmp/nvidia-mps/gpu1", std::nullopt, AccessMode::kHostPath));
  EXPECT_EQ(MpsGpuResource(12), "kindmps.dev/mps-gpu12");
}

TEST(PodMpsAccess, ParsesTheModeName) {
  EXPECT_EQ(*ParseAccessMode("hostpath"), AccessMode::kHostPath);
  EXPECT_EQ(*ParseAccessMode("cdi"), AccessMode::kCdi);
  auto bad = ParseAccessMode("HostPath");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("--access \"HostPath\": expected hostpath"));
}

}  // namespace
}  // namespace kmps::pod
