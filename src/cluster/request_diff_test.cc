#include "cluster/request_diff.h"

#include <gtest/gtest.h>

namespace kmps::cluster {
namespace {

config::ClusterConfig Saved() {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "d";
  c.workers = 1;
  return c;
}

TEST(DiffRequest, TheSameRequestChangesNothing) {
  RequestDiff d = DiffRequest(Saved(), Saved(), "kind: Cluster\n", "kind: Cluster\n");
  EXPECT_TRUE(d.live.empty());
  EXPECT_TRUE(d.fixed.empty());
}

TEST(DiffRequest, TheShapeAndThePathsAreFixed) {
  config::ClusterConfig r = Saved();
  r.workers = 2;
  r.image = "kindest/node:v1.31.0";
  r.gpu_nodes = {"worker"};
  r.mps.pipe_directory = "/run/mps";
  r.mps.log_directory = "/run/mps-log";
  r.mps.server_uid = 0;
  RequestDiff d = DiffRequest(Saved(), r, "", "");
  EXPECT_EQ(d.fixed, (std::vector<std::string>{"image (kind's default) -> kindest/node:v1.31.0", "workers 1 -> 2",
                                               "gpuNodes (all) -> [worker]",
                                               "mps.pipeDirectory /tmp/nvidia-mps -> /run/mps",
                                               "mps.logDirectory /var/log/nvidia-mps -> /run/mps-log",
                                               "mps.serverUid 1000 -> 0"}));
  EXPECT_TRUE(d.live.empty());
}

TEST(DiffRequest, SizesAndSettingsSetAgainAreLive) {
  config::ClusterConfig r = Saved();
  r.shm_size = "16g";
  r.shm_bytes = 16ull << 30;
  r.mps.start_server = false;
  r.mps.default_active_thread_percentage = 25;
  r.mps.pinned_device_memory_limits = {{"0", "2G"}};
  RequestDiff d = DiffRequest(Saved(), r, "", "");
  EXPECT_TRUE(d.fixed.empty());
  EXPECT_EQ(d.live, (std::vector<std::string>{"shmSize 8g -> 16g", "mps.startServer true -> false",
                                              "mps.defaultActiveThreadPercentage (unset) -> 25",
                                              "mps.pinnedDeviceMemoryLimits (none) -> [0:2G]"}));
}

// The daemon keeps a setting until it restarts: taking one away is not done live.
TEST(DiffRequest, ASettingTakenAwayIsFixed) {
  config::ClusterConfig saved = Saved();
  saved.mps.default_active_thread_percentage = 25;
  saved.mps.pinned_device_memory_limits = {{"0", "2G"}, {"1", "1G"}};
  config::ClusterConfig r = Saved();
  r.mps.pinned_device_memory_limits = {{"0", "4G"}};
  RequestDiff d = DiffRequest(saved, r, "", "");
  EXPECT_EQ(d.fixed, (std::vector<std::string>{"mps.defaultActiveThreadPercentage 25 -> (unset)",
                                               "mps.pinnedDeviceMemoryLimits [0:2G, 1:1G] -> [0:4G]"}));
}

// What the state file does not hold (mounts, patches) shows in the kind config each renders.
TEST(DiffRequest, AKindConfigThatDiffersOtherwiseIsFixedAndNamesTheLine) {
  RequestDiff d = DiffRequest(Saved(), Saved(), "a: 1\nb: 2\n", "a: 1\nb: 3\n");
  EXPECT_EQ(d.fixed, std::vector<std::string>{"the kind config (mounts, patches, labels) at line 2: b: 2 -> b: 3"});
  // Nothing saved to compare with: not compared.
  EXPECT_TRUE(DiffRequest(Saved(), Saved(), "", "a: 1\n").fixed.empty());
}

TEST(DiffRequest, TheDaemonLayoutIsFixedAndPerGpuSettingsAreLiveUnlessTakenAway) {
  config::ClusterConfig saved = Saved(), request = Saved();
  request.mps.daemons = config::MpsSettings::Daemons::kPerGpu;
  RequestDiff d = DiffRequest(saved, request, "", "");
  ASSERT_EQ(d.fixed.size(), 1u);
  EXPECT_EQ(d.fixed[0], "mps.daemons perNode -> perGpu");
  saved.mps.daemons = request.mps.daemons;
  request.mps.per_gpu = {{"1", 50.0, ""}};
  d = DiffRequest(saved, request, "", "");
  EXPECT_TRUE(d.fixed.empty());
  ASSERT_EQ(d.live.size(), 1u);
  EXPECT_EQ(d.live[0], "mps.perGpu (none) -> [1: threads 50]");
  d = DiffRequest(request, saved, "", "");
  ASSERT_EQ(d.fixed.size(), 1u);
  EXPECT_EQ(d.fixed[0], "mps.perGpu [1: threads 50] -> (none)");
}
}  // namespace
}  // namespace kmps::cluster
