#include "cluster/nodes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "docker_api/fake_daemon_test_util.h"

namespace kmps::cluster {
namespace {

std::vector<NodeRef> Nodes() {
  return {{"c-control-plane", "control-plane", true, false}, {"c-worker", "worker", true, true},
          {"c-worker2", "worker", true, true}};
}

kind::ClusterConfig Config() {
  kind::ClusterConfig c;
  c.name = "c";
  return c;
}

TEST(SelectMpsTargets, ByNameOrEveryGpuNode) {
  auto one = SelectMpsTargets(Nodes(), Config(), "c-worker2", false);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().name, "c-worker2");
  auto all = SelectMpsTargets(Nodes(), Config(), "", true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);  // the GPU nodes only
}

TEST(SelectMpsTargets, AmbiguousUnknownAndContradictoryChoices) {
  auto ambiguous = SelectMpsTargets(Nodes(), Config(), "", false);
  EXPECT_EQ(ambiguous.status().code(), Code::kInvalidArgument);
  EXPECT_NE(ambiguous.status().message().find("2 GPU nodes"), std::string::npos);
  EXPECT_EQ(SelectMpsTargets(Nodes(), Config(), "nope", false).status().code(), Code::kNotFound);
  EXPECT_EQ(SelectMpsTargets(Nodes(), Config(), "c-worker", true).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SelectMpsTargets({}, Config(), "", true).status().code(), Code::kFailed);
}

TEST(KindFinished, AsksTheFirstControlPlaneForAdminConf) {
  using docker::testing::FakeDaemon;
  std::atomic<bool> admin_conf{true};
  FakeDaemon daemon([&](const docker::testing::FakeRequest& r, bool&) {
    if (r.method == "HEAD") return FakeDaemon::Reply(admin_conf ? 200 : 404, "");
    return FakeDaemon::Reply(200, "{\"Id\": \"abc\", \"Name\": \"/c-control-plane\"}");  // inspect
  });
  docker::ClientOptions options;
  options.docker_host = daemon.docker_host();
  options.api_version = "1.41";
  auto client = docker::DockerClient::Create(options);
  ASSERT_TRUE(client.ok());
  std::vector<NodeRef> nodes = {{"c-control-plane", "control-plane", true, false},
                                {"c-control-plane2", "control-plane", true, false},
                                {"c-worker", "worker", true, true}};
  auto finished = KindFinished(**client, nodes);
  ASSERT_TRUE(finished.ok()) << finished.status().message();
  EXPECT_TRUE(*finished);
  admin_conf = false;
  finished = KindFinished(**client, nodes);
  ASSERT_TRUE(finished.ok()) << finished.status().message();
  EXPECT_FALSE(*finished) << "kind stopped before kubeadm init wrote admin.conf";
  auto requests = daemon.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[0].path, "/v1.41/containers/c-control-plane/archive?path=%2Fetc%2Fkubernetes%2Fadmin.conf");
  // Only workers left: no control plane was made.
  finished = KindFinished(**client, {nodes[2]});
  ASSERT_TRUE(finished.ok());
  EXPECT_FALSE(*finished);
}

TEST(ForEachParallel, RunsEveryItemOnceWithBoundedThreads) {
  docker::ClientOptions options;
  options.docker_host = "unix:///nonexistent/kmps.sock";  // never contacted
  auto client = docker::DockerClient::Create(options);
  ASSERT_TRUE(client.ok());
  constexpr size_t kItems = 40;
  std::vector<std::atomic<int>> seen(kItems);
  std::atomic<int> running{0}, peak{0};
  auto results = ForEachParallel(**client, kItems, [&](docker::DockerClient&, size_t i) {
    int now = ++running;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    ++seen[i];
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --running;
    return i % 7 == 3 ? Failed("item " + std::to_string(i)) : Status::Ok();
  });
  ASSERT_EQ(results.size(), kItems);
  for (size_t i = 0; i < kItems; ++i) {
    EXPECT_EQ(seen[i].load(), 1) << i;
    EXPECT_EQ(results[i].ok(), i % 7 != 3) << i;
  }
  EXPECT_LE(peak.load(), static_cast<int>(kMaxParallel));
  EXPECT_GT(peak.load(), 1);
}

}  // namespace
}  // namespace kmps::cluster
