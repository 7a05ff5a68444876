#include "cluster/nodes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

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
