#include "cluster/daemons.h"

#include <gtest/gtest.h>

namespace kmps::cluster {
namespace {

using Daemons = config::MpsSettings::Daemons;

std::vector<kind::HostGpu> TwoGpus() {
  kind::HostGpu a, b;
  a.minor = 0;
  a.uuid = "GPU-aaaa";
  b.minor = 3;
  b.uuid = "GPU-bbbb";
  return {a, b};
}

TEST(PlanDaemons, OnePerNodeIsTheNodesSettingsAndItsVisibleDevices) {
  config::MpsSettings mps;
  auto plans = PlanDaemons(mps, TwoGpus(), "GPU-aaaa,GPU-bbbb");
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_FALSE(plans[0].gpu);
  EXPECT_EQ(plans[0].mps.pipe_directory, "/tmp/nvidia-mps");
  EXPECT_EQ(plans[0].visible_devices, "GPU-aaaa,GPU-bbbb");
  EXPECT_EQ(plans[0].Where("n"), "node n");
}

TEST(PlanDaemons, PerGpuGivesEachGpuItsDirectoriesItsUuidAndItsSettings) {
  config::MpsSettings mps;
  mps.daemons = Daemons::kPerGpu;
  mps.default_active_thread_percentage = 100;
  mps.pinned_device_memory_limits = {{"0", "1G"}};
  // By minor for one GPU, by UUID (another case) for the other.
  mps.per_gpu = {{"0", 25.0, ""}, {"gpu-BBBB", std::nullopt, "4G"}};
  mps.per_gpu[1].gpu = "GPU-BBBB";
  auto plans = PlanDaemons(mps, TwoGpus(), "ignored");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].gpu, 0);
  EXPECT_EQ(plans[0].mps.pipe_directory, "/tmp/nvidia-mps/gpu0");
  EXPECT_EQ(plans[0].mps.log_directory, "/var/log/nvidia-mps/gpu0");
  EXPECT_EQ(plans[0].visible_devices, "GPU-aaaa");
  EXPECT_EQ(plans[0].mps.default_active_thread_percentage, 25.0);
  ASSERT_EQ(plans[0].mps.pinned_device_memory_limits.size(), 1u);
  EXPECT_EQ(plans[0].mps.pinned_device_memory_limits[0].limit, "1G");
  EXPECT_EQ(plans[1].gpu, 3);
  EXPECT_EQ(plans[1].mps.pipe_directory, "/tmp/nvidia-mps/gpu3");
  EXPECT_EQ(plans[1].visible_devices, "GPU-bbbb");
  EXPECT_EQ(plans[1].mps.default_active_thread_percentage, 100.0);
  // Its own limit, for device 0: the only one its daemon sees.
  ASSERT_EQ(plans[1].mps.pinned_device_memory_limits.size(), 1u);
  EXPECT_EQ(plans[1].mps.pinned_device_memory_limits[0].device, "0");
  EXPECT_EQ(plans[1].mps.pinned_device_memory_limits[0].limit, "4G");
  EXPECT_EQ(plans[1].Where("n"), "node n GPU 3");
}

TEST(CheckDaemonPlan, PerGpuNeedsUuidsAndSettingsForGpusTheNodesHave) {
  config::MpsSettings mps;
  EXPECT_TRUE(CheckDaemonPlan(mps, {{}}, {}).ok());  // perNode: nothing to check
  mps.daemons = Daemons::kPerGpu;
  auto gpus = TwoGpus();
  EXPECT_TRUE(CheckDaemonPlan(mps, {{gpus[0]}, {gpus[1]}}, gpus).ok());
  auto no_uuid = gpus;
  no_uuid[1].uuid = "";
  Status s = CheckDaemonPlan(mps, {no_uuid}, no_uuid);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("UUID of GPU 3 is unknown"), std::string::npos) << s.message();
  mps.per_gpu = {{"3", 50.0, ""}};
  s = CheckDaemonPlan(mps, {{gpus[0]}}, gpus);  // GPU 3 is the host's, but no GPU node's
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("mps.perGpu: GPU 3 is no GPU node's"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckDaemonPlan(mps, {{gpus[0]}, {gpus[1]}}, gpus).ok());
}

}  // namespace
}  // namespace kmps::cluster
