#include "config/gpu_assignment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/decode.h"
#include "config/overrides.h"

namespace kmps::config {
namespace {

using ::testing::HasSubstr;
using Mode = GpuAssignment::Mode;

TEST(ParseGpuAssignment, TheFlagsThreeForms) {
  EXPECT_EQ(ParseGpuAssignment("all")->mode, Mode::kAll);
  EXPECT_EQ(ParseGpuAssignment("one-per-node")->mode, Mode::kOnePerNode);
  EXPECT_EQ(ParseGpuAssignment("onePerNode")->mode, Mode::kOnePerNode);
  auto g = ParseGpuAssignment("lab-worker=0,lab-worker2=1+GPU-5d0f-AB");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->per_node.size(), 2u);
  EXPECT_EQ(g->per_node[1].first, "lab-worker2");
  EXPECT_EQ(g->per_node[1].second, (std::vector<std::string>{"1", "GPU-5d0f-AB"}));
  EXPECT_EQ(GpuAssignmentText(*g), "lab-worker=0,lab-worker2=1+GPU-5d0f-AB");  // what the state file keeps
  EXPECT_EQ(*ParseGpuAssignment(GpuAssignmentText(*g)), *g);
}

TEST(ParseGpuAssignment, RefusesWhatNamesNoGpu) {
  EXPECT_THAT(ParseGpuAssignment("lab-worker").status().message(), HasSubstr("expected all, one-per-node, or NODE=GPU"));
  EXPECT_THAT(ParseGpuAssignment("w=").status().message(), HasSubstr("expected all"));
  EXPECT_THAT(ParseGpuAssignment("w=01").status().message(), HasSubstr("\"01\" is no GPU: give its device minor"));
  EXPECT_THAT(ParseGpuAssignment("w=64").status().message(), HasSubstr("0 to 63"));
  EXPECT_THAT(ParseGpuAssignment("w=GPU-xyz").status().message(), HasSubstr("\"GPU-xyz\" is no GPU UUID"));
  EXPECT_THAT(ParseGpuAssignment("w=0+0").status().message(), HasSubstr("w: GPU 0 is listed twice"));
  EXPECT_THAT(ParseGpuAssignment("w=0,w=1").status().message(), HasSubstr("node w is given GPUs twice"));
}

const std::string kTypeMeta = "apiVersion: kindmps.dev/v1alpha1\nkind: Config\n";

TEST(GpusInKindmpsYaml, ModesAndPerNodeLists) {
  EXPECT_EQ(ParseClusterConfig("gpus: onePerNode\n" + kTypeMeta, "k")->gpus.mode, Mode::kOnePerNode);
  // The flag's spelling too: the GPU run's first try wrote it so.
  EXPECT_EQ(ParseClusterConfig("gpus: one-per-node\n" + kTypeMeta, "k")->gpus.mode, Mode::kOnePerNode);
  auto c = ParseClusterConfig("workers: 2\ngpus:\n  kind-worker: [0]\n  kind-worker2: [1, GPU-ab]\n" + kTypeMeta, "k");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(GpuAssignmentText(c->gpus), "kind-worker=0,kind-worker2=1+GPU-ab");
  EXPECT_THAT(ParseClusterConfig("gpus: some\n" + kTypeMeta, "k").status().message(),
              HasSubstr("k:1:7: gpus: expected all, onePerNode or a mapping"));
  EXPECT_THAT(ParseClusterConfig("gpus:\n  w: [x]\n" + kTypeMeta, "k").status().message(),
              HasSubstr("k:2:7: gpus.w: \"x\" is no GPU"));
  EXPECT_THAT(ParseClusterConfig("gpus:\n  w: []\n" + kTypeMeta, "k").status().message(),
              HasSubstr("k:2:6: gpus.w: expected a list of GPUs"));
}

TEST(GpusInKindmpsYaml, EveryGpuNodeIsGivenSomeAndOnlyGpuNodes) {
  ClusterConfig c = DefaultClusterConfig();
  c.name = "lab";
  c.workers = 2;
  c.gpu_nodes = {"worker"};
  c.gpus = *ParseGpuAssignment("lab-worker=0,lab-worker2=1");
  EXPECT_TRUE(ValidateClusterConfig(c).ok());
  c.gpus = *ParseGpuAssignment("lab-worker=0,lab-control-plane=1");
  EXPECT_THAT(ValidateClusterConfig(c).message(),
              HasSubstr("gpus: \"lab-control-plane\" is no GPU node of this cluster (GPU nodes: lab-worker, lab-worker2"));
  c.gpus = *ParseGpuAssignment("lab-worker=0");
  EXPECT_THAT(ValidateClusterConfig(c).message(), HasSubstr("gpus: GPU node lab-worker2 is given no GPU"));
  ConfigOverrides o;
  o.gpus = "lab-worker=x";
  EXPECT_THAT(ApplyOverrides(c, o).message(), HasSubstr("--gpus lab-worker: \"x\" is no GPU"));
}

}  // namespace
}  // namespace kmps::config
