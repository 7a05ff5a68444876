// Replays the Docker API traffic of kindmps-api status during the H200 run of real Pods
// (tools/device/gpu-pods.sh, driver 580.159.04, 2026-12-02; docs/gpu-e2e.md): two GPU workers
// on one GPU, each with its own real MPS daemon; kubelet and containerd in the nodes ran a Pod of
// `kindmps-api pod --access cdi` whose CUDA client was attached while status ran.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cluster/status.h"
#include "docker_api/docker_client.h"
#include "node/docker_node.h"
#include "support/replay_server.h"

namespace kmps {
namespace {

using testing::ReplayServer;

config::ClusterConfig GpuPodsConfig() {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "gpu-pods";
  c.workers = 2;
  c.gpu_nodes = {"worker"};
  return c;
}

TEST(H200PodsReplay, StatusNamesThePodOfTheRealClientOnEachNodesOwnDaemon) {
  auto loaded = testing::LoadCassette(std::string(KMPS_SOURCE_DIR) + "/fixtures/cassettes/h200-pods-status.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ReplayServer server(std::move(loaded).value());
  ASSERT_TRUE(server.Start().ok());
  docker::ClientOptions options;
  options.docker_host = "unix://" + server.socket_path();
  options.call_timeout = std::chrono::seconds(10);
  auto client = docker::DockerClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status().message();
  node::DockerProvider provider(**client);
  auto status = cluster::CollectStatus(provider, GpuPodsConfig());
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_TRUE(status->healthy());
  ASSERT_EQ(status->nodes.size(), 3u);
  const cluster::NodeStatus& w1 = status->nodes[1];
  const cluster::NodeStatus& w2 = status->nodes[2];
  EXPECT_EQ(w1.node.name, "gpu-pods-worker");
  EXPECT_EQ(w2.node.name, "gpu-pods-worker2");
  for (const auto* n : {&w1, &w2}) {
    EXPECT_TRUE(n->node.gpu);
    EXPECT_EQ(n->shm_bytes, 8ull << 30);
    EXPECT_EQ(n->mps_access(), "cdi") << "the CDI spec and the device plugin, in " << n->node.name;
    ASSERT_TRUE(n->mps.control.has_value());
    EXPECT_EQ(n->mps.servers.size(), 1u) << "each node's own daemon has its own server";
    EXPECT_EQ(n->daemon.default_threads, "100.0");
    EXPECT_EQ(n->daemon.refused_commands, 0);
  }
  EXPECT_NE(w1.mps.control->pid, w2.mps.control->pid);
  // The real daemon reported the Pod's client by its PID in the node (not 0), and its cgroup and
  // the node's crictl named the static Pod.
  ASSERT_EQ(w1.daemon.servers.size(), 1u);
  ASSERT_EQ(w1.daemon.servers[0].clients.size(), 1u);
  int pid = w1.daemon.servers[0].clients[0];
  EXPECT_GT(pid, 0);
  EXPECT_EQ(w1.daemon.client_pods.at(pid), "default/long-gpu-pods-worker");
  EXPECT_EQ(w2.daemon.client_count(), 0u);
  // Two daemons on the one GPU: said, as the run measured their servers time-sliced.
  ASSERT_EQ(status->notes.size(), 1u);
  EXPECT_NE(status->notes[0].find("2 GPU nodes share this host's GPUs"), std::string::npos);
  auto j = status->ToJson();
  EXPECT_EQ(j["nodes"][1]["mps"]["clients"][0]["pods"][0], "default/long-gpu-pods-worker");
  EXPECT_TRUE(server.misses().empty()) << "requests the real run never made: " << server.misses().front();
}

}  // namespace
}  // namespace kmps
