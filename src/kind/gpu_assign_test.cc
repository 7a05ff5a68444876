#include "kind/gpu_assign.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::kind {
namespace {

using ::testing::HasSubstr;

std::vector<HostGpu> Host(int n) {
  std::vector<HostGpu> gpus;
  for (int i = 0; i < n; ++i) {
    HostGpu g;
    g.minor = i;
    g.uuid = fmt::format("GPU-{:08x}-0000-0000-0000-000000000000", 0xa0 + i);
    g.bus_id = fmt::format("0000:{:02x}:00.0", 0x19 + i);
    g.mig = MigMode::kDisabled;
    gpus.push_back(g);
  }
  return gpus;
}

config::ClusterConfig Lab(const std::string& gpus, int workers = 2) {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "lab";
  c.workers = workers;
  c.gpu_nodes = {"worker"};
  c.gpus = *config::ParseGpuAssignment(gpus);
  return c;
}

TEST(AssignGpus, AllGivesEveryGpuNodeEveryGpu) {
  auto a = AssignGpus(Lab("all"), Host(2));
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].node, "lab-worker");
  EXPECT_TRUE((*a)[0].all);
  EXPECT_EQ(MinorList((*a)[1].gpus), "0,1");
}

TEST(AssignGpus, OnePerNodeInKindsNodeOrder) {
  auto a = AssignGpus(Lab("one-per-node"), Host(3));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_FALSE((*a)[0].all);
  EXPECT_EQ(MinorList((*a)[0].gpus), "0");
  EXPECT_EQ(MinorList((*a)[1].gpus), "1");
  EXPECT_EQ(VisibleDevices((*a)[1].gpus), "GPU-000000a1-0000-0000-0000-000000000000");
  EXPECT_THAT(AssignGpus(Lab("one-per-node", 3), Host(2)).status().message(),
              HasSubstr("gpus: onePerNode gives each of the 3 GPU nodes a GPU of its own, but this host has 2"));
}

TEST(AssignGpus, PerNodeByMinorOrUuid) {
  auto a = AssignGpus(Lab("lab-worker=GPU-000000a1-0000-0000-0000-000000000000,lab-worker2=0+2"), Host(3));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(MinorList((*a)[0].gpus), "1");
  EXPECT_EQ(MinorList((*a)[1].gpus), "0,2");
  auto upper = AssignGpus(Lab("lab-worker=GPU-000000A1-0000-0000-0000-000000000000,lab-worker2=0"), Host(2));
  ASSERT_TRUE(upper.ok()) << upper.status().message();  // UUIDs are read case-blind, as CUDA reads them
  EXPECT_EQ(MinorList((*upper)[0].gpus), "1");
  EXPECT_THAT(AssignGpus(Lab("lab-worker=0,lab-worker2=5"), Host(2)).status().message(),
              HasSubstr("gpus: lab-worker2: this host has no GPU 5 (its GPUs: 0 GPU-000000a0"));
  EXPECT_THAT(AssignGpus(Lab("lab-worker=0,lab-worker2=0"), Host(2)).status().message(),
              HasSubstr("gpus: GPU 0 is given to both lab-worker and lab-worker2"));
  EXPECT_THAT(AssignGpus(Lab("lab-worker=1+GPU-000000a1-0000-0000-0000-000000000000,lab-worker2=0"), Host(2))
                  .status()
                  .message(),
              HasSubstr("GPU 1 is named twice"));
}

TEST(AssignGpus, UuidsUnknownAndMig) {
  std::vector<HostGpu> bare = Host(2);
  for (auto& g : bare) g.uuid.clear();
  EXPECT_THAT(AssignGpus(Lab("lab-worker=GPU-ab,lab-worker2=0"), bare).status().message(),
              HasSubstr("this host's GPU UUIDs are unknown"));
  auto a = AssignGpus(Lab("one-per-node"), bare);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(VisibleDevices((*a)[0].gpus), "");  // no UUID: CUDA_VISIBLE_DEVICES is not set
  std::vector<HostGpu> mig = Host(2);
  mig[1].mig = MigMode::kEnabled;
  config::ClusterConfig one = Lab("lab-worker=0", 1);
  EXPECT_TRUE(AssignGpus(one, mig).ok());  // the MIG GPU is not assigned
  EXPECT_THAT(AssignGpus(Lab("one-per-node"), mig).status().message(), HasSubstr("GPU 1 (GPU-000000a1"));
  EXPECT_THAT(AssignGpus(Lab("all"), mig).status().message(), HasSubstr("has MIG enabled"));
}

}  // namespace
}  // namespace kmps::kind
