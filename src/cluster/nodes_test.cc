#include "cluster/nodes.h"

#include <gtest/gtest.h>

#include "support/fake_node.h"

namespace kmps::cluster {
namespace {

using testing::FakeNode;

node::NodeList Nodes() {
  node::NodeList nodes;
  nodes.push_back(std::make_unique<FakeNode>("c-control-plane", "control-plane", true, false));
  nodes.push_back(std::make_unique<FakeNode>("c-worker", "worker", true, true));
  nodes.push_back(std::make_unique<FakeNode>("c-worker2", "worker", true, true));
  return nodes;
}

config::ClusterConfig Config() {
  config::ClusterConfig c;
  c.name = std::string(1, 'c');  // not = "c": GCC 12 at -O3 sees a bogus overlap (-Wrestrict, PR105329)
  return c;
}

TEST(SelectMpsTargets, ByNameOrEveryGpuNode) {
  node::NodeList nodes = Nodes();
  auto one = SelectMpsTargets(nodes, Config(), "c-worker2", false);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front()->name(), "c-worker2");
  auto all = SelectMpsTargets(nodes, Config(), "", true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);  // the GPU nodes only
}

TEST(SelectMpsTargets, AmbiguousUnknownAndContradictoryChoices) {
  node::NodeList nodes = Nodes();
  auto ambiguous = SelectMpsTargets(nodes, Config(), "", false);
  EXPECT_EQ(ambiguous.status().code(), Code::kInvalidArgument);
  EXPECT_NE(ambiguous.status().message().find("2 GPU nodes"), std::string::npos);
  EXPECT_EQ(SelectMpsTargets(nodes, Config(), "nope", false).status().code(), Code::kNotFound);
  EXPECT_EQ(SelectMpsTargets(nodes, Config(), "c-worker", true).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SelectMpsTargets({}, Config(), "", true).status().code(), Code::kFailed);
}

TEST(KindFinished, AsksTheFirstControlPlaneForAdminConf) {
  node::NodeList nodes;
  auto first = std::make_unique<FakeNode>("c-control-plane", "control-plane");
  auto second = std::make_unique<FakeNode>("c-control-plane2", "control-plane");
  FakeNode& cp = *first;
  second->paths = {kKubeadmAdminConf};  // not the one asked
  nodes.push_back(std::move(first));
  nodes.push_back(std::move(second));
  nodes.push_back(std::make_unique<FakeNode>("c-worker", "worker"));
  cp.paths = {kKubeadmAdminConf};
  auto finished = KindFinished(nodes);
  ASSERT_TRUE(finished.ok());
  EXPECT_TRUE(*finished);
  cp.paths.clear();
  finished = KindFinished(nodes);
  ASSERT_TRUE(finished.ok());
  EXPECT_FALSE(*finished) << "kind stopped before kubeadm init wrote admin.conf";
  // Only workers left: no control plane was made.
  node::NodeList workers;
  workers.push_back(std::make_unique<FakeNode>("c-worker", "worker"));
  finished = KindFinished(workers);
  ASSERT_TRUE(finished.ok());
  EXPECT_FALSE(*finished);
}

TEST(ListClusterNodes, MarksTheGpuNodesOfTheConfig) {
  class OneCluster : public node::Provider {
   public:
    StatusOr<node::NodeList> ListNodes(const std::string& cluster) override {
      EXPECT_EQ(cluster, "c");
      return Nodes();
    }
    StatusOr<std::vector<std::string>> ContainerNames(const std::string&) override { return std::vector<std::string>{}; }
  } provider;
  config::ClusterConfig c = Config();
  c.workers = 2;
  c.gpu_nodes = {"c-worker2"};
  auto nodes = ListClusterNodes(provider, c);
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_FALSE((*nodes)[0]->info().gpu);
  EXPECT_FALSE((*nodes)[1]->info().gpu);
  EXPECT_TRUE((*nodes)[2]->info().gpu);
}

}  // namespace
}  // namespace kmps::cluster
