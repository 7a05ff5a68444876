#include "node/docker_node.h"

#include <gtest/gtest.h>

#include <atomic>

#include "support/replay_server.h"

namespace kmps::node {
namespace {

using kmps::testing::FakeDaemon;
using kmps::testing::FakeRequest;

std::unique_ptr<docker::DockerClient> ClientFor(const FakeDaemon& daemon) {
  docker::ClientOptions options;
  options.docker_host = daemon.docker_host();
  options.api_version = "1.41";
  auto client = docker::DockerClient::Create(options);
  EXPECT_TRUE(client.ok());
  return std::move(client).value();
}

TEST(ListDockerNodes, KindsLabelledContainersSortedWithoutTheLoadBalancer) {
  FakeDaemon daemon([](const FakeRequest& r, bool&) {
    EXPECT_NE(r.path.find("io.x-k8s.kind.cluster%3Dc"), std::string::npos) << r.path;
    return FakeDaemon::Reply(200, R"([
      {"Id": "3", "Names": ["/c-worker"], "State": "exited", "Labels": {"io.x-k8s.kind.role": "worker"}},
      {"Id": "1", "Names": ["/c-external-load-balancer"], "State": "running",
       "Labels": {"io.x-k8s.kind.role": "external-load-balancer"}},
      {"Id": "2", "Names": ["/c-control-plane"], "State": "running", "Labels": {"io.x-k8s.kind.role": "control-plane"}}
    ])");
  });
  auto client = ClientFor(daemon);
  auto nodes = ListDockerNodes(*client, "c");
  ASSERT_TRUE(nodes.ok()) << nodes.status().message();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0]->name(), "c-control-plane");
  EXPECT_TRUE((*nodes)[0]->info().running);
  EXPECT_EQ((*nodes)[1]->info().role, "worker");
  EXPECT_FALSE((*nodes)[1]->info().running);
  auto names = ClusterContainerNames(*client, "c");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"c-control-plane", "c-external-load-balancer", "c-worker"}));
}

TEST(DockerNode, PathExistsAsksTheArchiveEndpointWithoutAnExec) {
  std::atomic<bool> admin_conf{true};
  FakeDaemon daemon([&](const FakeRequest& r, bool&) {
    if (r.method == "HEAD") return FakeDaemon::Reply(admin_conf ? 200 : 404, "");
    return FakeDaemon::Reply(200, "{\"Id\": \"abc\", \"Name\": \"/c-control-plane\"}");  // inspect
  });
  DockerNode node({"c-control-plane", "control-plane", true, false}, ClientFor(daemon));
  auto there = node.PathExists("/etc/kubernetes/admin.conf");
  ASSERT_TRUE(there.ok()) << there.status().message();
  EXPECT_TRUE(*there);
  admin_conf = false;
  auto gone = node.PathExists("/etc/kubernetes/admin.conf");
  ASSERT_TRUE(gone.ok()) << gone.status().message();
  EXPECT_FALSE(*gone);
  auto requests = daemon.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[0].path, "/v1.41/containers/c-control-plane/archive?path=%2Fetc%2Fkubernetes%2Fadmin.conf");
  for (const auto& r : requests) EXPECT_EQ(r.path.find("/exec"), std::string::npos);
}

}  // namespace
}  // namespace kmps::node
