// Replays the Docker API traffic that kindmps-api itself sent during the real-GPU run
// (tools/device/gpu-e2e.sh on an H100 with driver 580.159.04 and the real MPS daemons; see
// docs/gpu-e2e.md) and asserts what that run showed. The cassettes were recorded by
// kmps-recorder between kindmps-api and the engine: every byte the client reads here is what
// the real engine sent, so these tests go through libcurl, the stream demuxer, and the MPS
// and status logic exactly as on the GPU host.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cluster/nodes.h"
#include "cluster/status.h"
#include "cluster/up.h"
#include "docker_api/docker_client.h"
#include "mps/mps_control.h"
#include "node/docker_node.h"
#include "support/replay_server.h"

namespace kmps {
namespace {

using testing::ReplayServer;

std::string CassettePath(const std::string& name) {
  return std::string(KMPS_SOURCE_DIR) + "/fixtures/cassettes/" + name;
}

// The cluster of the run: control-plane + one worker; the worker is the GPU node.
config::ClusterConfig GpuE2eConfig() {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "gpu-e2e";
  c.workers = 1;
  c.gpu_nodes = {"worker"};
  return c;
}

class H100E2eReplay : public ::testing::Test {
 protected:
  void Serve(const std::string& cassette) {
    auto loaded = testing::LoadCassette(CassettePath(cassette));
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    server_ = std::make_unique<ReplayServer>(std::move(loaded).value());
    ASSERT_TRUE(server_->Start().ok());
    docker::ClientOptions options;
    options.docker_host = "unix://" + server_->socket_path();
    options.call_timeout = std::chrono::seconds(10);
    auto client = docker::DockerClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(client).value();
  }
  void TearDown() override {
    if (server_) {
      auto misses = server_->misses();
      EXPECT_TRUE(misses.empty()) << "requests the real run never made: " << misses.front();
    }
  }

  StatusOr<node::NodeList> ListNodes() {
    node::DockerProvider provider(*client_);
    return cluster::ListClusterNodes(provider, GpuE2eConfig());
  }
  // The GPU node of the run, on a connection of its own.
  node::DockerNode WorkerNode() {
    auto own = client_->Clone();
    EXPECT_TRUE(own.ok());
    return node::DockerNode({"gpu-e2e-worker", "worker", true, true}, std::move(own).value());
  }

  std::unique_ptr<ReplayServer> server_;
  std::unique_ptr<docker::DockerClient> client_;
};

TEST_F(H100E2eReplay, GpuStatusSeesTheRealControlDaemonAndServer) {
  ASSERT_NO_FATAL_FAILURE(Serve("h100-e2e-status.json"));
  node::DockerProvider provider(*client_);
  auto status = cluster::CollectStatus(provider, GpuE2eConfig());
  ASSERT_TRUE(status.ok()) << status.status().message();
  // The probe of that run (an older kindmps-api) saw the socket but did not ask the daemon
  // anything; a daemon now counts only once it answers there (the H200 status cassette has its
  // answers), so this recording reads as "not known to answer", and nothing else is wrong.
  EXPECT_FALSE(status->healthy());
  ASSERT_EQ(status->nodes.size(), 2u);
  EXPECT_EQ(status->nodes[1].problems,
            std::vector<std::string>{"node gpu-e2e-worker: no MPS control daemon answers on /tmp/nvidia-mps/control"});
  const cluster::NodeStatus& cp = status->nodes[0];
  const cluster::NodeStatus& worker = status->nodes[1];
  EXPECT_EQ(cp.node.name, "gpu-e2e-control-plane");
  EXPECT_FALSE(cp.node.gpu);
  EXPECT_FALSE(cp.mps.control.has_value());
  EXPECT_EQ(worker.node.name, "gpu-e2e-worker");
  EXPECT_EQ(worker.node.role, "worker");
  EXPECT_TRUE(worker.node.gpu);
  EXPECT_EQ(worker.shm_bytes, 8ull << 30);
  EXPECT_TRUE(worker.pipe_socket);
  ASSERT_TRUE(worker.mps.control.has_value());
  ASSERT_EQ(worker.mps.servers.size(), 1u);
  // The real server is a child of the real control daemon.
  EXPECT_EQ(worker.mps.servers[0].ppid, worker.mps.control->pid);
  auto j = status->ToJson();
  EXPECT_EQ(j["nodes"][1]["mps"]["control"]["running"], true);
  EXPECT_EQ(j["nodes"][1]["shmBytes"], 8589934592ull);
}

TEST_F(H100E2eReplay, GpuMpsCommandsGetTheRealDaemonsReplies) {
  ASSERT_NO_FATAL_FAILURE(Serve("h100-e2e-mps.json"));
  // The commands in the order the run sent them (each exec create is matched by its path).
  auto nodes = ListNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status().message();
  node::DockerNode node = WorkerNode();
  config::MpsSettings mps;
  auto reply = [&](const char* command) { return mps::SendCommand(node, mps, command); };
  auto atp = reply("get_default_active_thread_percentage");
  ASSERT_TRUE(atp.ok()) << atp.status().message();
  EXPECT_EQ(*atp, "100.0\n");
  auto list_again = [&]() { return ListNodes(); };
  ASSERT_TRUE(list_again().ok());
  auto set = reply("set_default_active_thread_percentage 50");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(*set, "50.0\n");
  ASSERT_TRUE(list_again().ok());
  EXPECT_EQ(*reply("get_default_active_thread_percentage"), "50.0\n");
  ASSERT_TRUE(list_again().ok());
  EXPECT_EQ(*reply("set_default_active_thread_percentage 100"), "100.0\n");
  ASSERT_TRUE(list_again().ok());
  auto servers = reply("get_server_list");
  ASSERT_TRUE(servers.ok());
  auto pids = mps::ParseServerList(*servers);
  ASSERT_EQ(pids.size(), 1u);  // the server's PID in the node's namespace
  ASSERT_TRUE(list_again().ok());
  EXPECT_EQ(*reply(("get_server_status " + std::to_string(pids[0])).c_str()), "ACTIVE\n");
  ASSERT_TRUE(list_again().ok());
  auto unknown = reply("help");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("Unknown command \"help\""), std::string::npos);
}

TEST_F(H100E2eReplay, GpuPodClientShowsInTheRealServerLog) {
  ASSERT_NO_FATAL_FAILURE(Serve("h100-e2e-pod.json"));
  node::DockerNode node = WorkerNode();
  config::MpsSettings mps;
  ASSERT_TRUE(ListNodes().ok());
  auto servers = mps::SendCommand(node, mps, "get_server_list");
  ASSERT_TRUE(servers.ok()) << servers.status().message();
  auto pids = mps::ParseServerList(*servers);
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_TRUE(ListNodes().ok());
  auto clients = mps::SendCommand(node, mps, "get_client_list " + std::to_string(pids[0]));
  ASSERT_TRUE(clients.ok()) << clients.status().message();
  // The pod has its own PID namespace: the daemon knows its client as PID 0.
  EXPECT_EQ(*clients, "0\n");

  auto top = node.Processes("");
  ASSERT_TRUE(top.ok()) << top.status().message();
  mps::MpsProcesses p = mps::FindMpsProcesses(*top);
  ASSERT_TRUE(p.control.has_value());
  ASSERT_EQ(p.servers.size(), 1u);
  EXPECT_EQ(p.servers[0].ppid, p.control->pid);

  docker::ExecOptions cat;
  cat.cmd = {"cat", "/var/log/nvidia-mps/server.log"};
  auto log = client_->ExecCapture("gpu-e2e-worker", cat);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ(log->exit_code, 0);
  EXPECT_NE(log->out.find("Creating server context on device 0 (NVIDIA H100 80GB HBM3)"), std::string::npos);
  EXPECT_NE(log->out.find("Client {PID: 0, Context ID: 1} connected"), std::string::npos);
}

TEST_F(H100E2eReplay, GpuDownQuitsTheRealDaemonAndWaitsForIt) {
  ASSERT_NO_FATAL_FAILURE(Serve("h100-e2e-down.json"));
  // Down's first step against the real daemon: quit, then the process table until it is gone.
  // (The recorded run then deleted the cluster with kind; that part is not API traffic.)
  cluster::DownOptions options;
  options.config = GpuE2eConfig();
  options.keep_cluster = true;
  std::vector<std::string> done;
  cluster::DockerEnv env(*client_);
  Status s = cluster::Down(env.env(), options, [&](const cluster::ProgressEvent& e) {
    if (e.kind == cluster::ProgressEvent::Kind::kStepDone) done.push_back(e.detail);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], "1 node");
  // After down, the cluster has no node left.
  node::DockerProvider provider(*client_);
  auto status = cluster::CollectStatus(provider, GpuE2eConfig());
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->healthy());
  EXPECT_TRUE(status->nodes.empty());
}

}  // namespace
}  // namespace kmps
