// cluster::CollectStatus, the code behind `kindmps-api status`, against recorded traffic:
//   status-healthy.json, status-daemon-quit.json: `kindmps-api status --name kmpsrec-status00 --json`
//     on a 2-node cluster of the stand-in kind with the MPS emulator, recorded through
//     kmps-recorder by tools/recorder/record-status.sh (healthy; then after `mps --node
//     kmpsrec-status00-worker quit`). status reads the nodes in parallel on several connections:
//     the interactions of the two nodes interleave, and the replay server matches each request
//     by method and target, first unused, so the order across nodes does not matter.
//   h100-mps-node.json: a derived cassette (see H100TopReportsTheRealDaemonAndServerHealthy).
#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cluster/status.h"
#include "node/docker_node.h"
#include "docker_api/url_query.h"
#include "config/config.h"
#include "mps/mps_processes.h"
#include "replay/replay_util.h"

namespace kmps::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kCluster = "kmpsrec-status00";
constexpr uint64_t k8GiB = 8ull << 30;
// Host PIDs in the recorded `top` replies (the same in both recordings for the control plane).
// Each node's table also holds `timeout -s KILL 20 nvidia-cuda-mps-control` wrappers of earlier
// MPS commands, which must not count as the daemon.
constexpr int kCpControl = 20678, kCpServer = 20711, kWorkerControl = 20665, kWorkerServer = 20703;

config::ClusterConfig Config(const std::string& name) {
  config::ClusterConfig c;  // the defaults: every node a GPU node, shm 8g, /tmp/nvidia-mps, start_server
  c.name = name;
  return c;
}

class StatusReplayTest : public ::testing::Test {
 protected:
  cluster::ClusterStatus Collect(Cassette cassette, const std::string& name = kCluster) {
    server_ = std::make_unique<ReplayServer>(std::move(cassette));
    EXPECT_TRUE(server_->Start().ok());
    auto client = ClientFor(*server_);
    EXPECT_TRUE(client.ok()) << client.status().message();
    if (!client.ok()) return {};
    // As `kindmps-api status` does (cli/cmd_cluster.cc Connect): a ping, then CollectStatus.
    EXPECT_TRUE((*client)->Ping().ok());
    node::DockerProvider provider(**client);
    auto status = cluster::CollectStatus(provider, Config(name));
    EXPECT_TRUE(status.ok()) << status.status().message();
    EXPECT_THAT(server_->misses(), IsEmpty());
    std::vector<std::string> unused = server_->unused();
    if (std::getenv("DOCKER_API_VERSION") != nullptr) {
      // A pinned version skips the negotiating ping the CLI sent while recording.
      std::erase(unused, std::string("GET /_ping"));
    }
    EXPECT_THAT(unused, IsEmpty());
    return status.ok() ? *status : cluster::ClusterStatus{};
  }
  std::unique_ptr<ReplayServer> server_;
};

Cassette Recorded(std::string_view name) {
  auto c = LoadCommittedCassette(name);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Cassette{};
}

// The documented schema of `status --json` (docs and README): these keys, these types.
void ExpectSchema(const nlohmann::json& j) {
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j.at("cluster").is_string());
  EXPECT_TRUE(j.at("healthy").is_boolean());
  ASSERT_TRUE(j.at("nodes").is_array());
  for (const auto& n : j.at("nodes")) {
    EXPECT_TRUE(n.at("name").is_string());
    EXPECT_TRUE(n.at("role").is_string());
    EXPECT_TRUE(n.at("running").is_boolean());
    EXPECT_TRUE(n.at("shmBytes").is_number_unsigned() || n.at("shmBytes").is_null());
    const auto& control = n.at("mps").at("control");
    EXPECT_TRUE(control.at("running").is_boolean());
    EXPECT_TRUE(control.at("pid").is_number_integer() || control.at("pid").is_null());
    EXPECT_EQ(control.at("pid").is_null(), !control.at("running").get<bool>());
    ASSERT_TRUE(n.at("mps").at("servers").is_array());
    for (const auto& s : n.at("mps").at("servers")) EXPECT_TRUE(s.at("pid").is_number_integer());
  }
}

TEST_F(StatusReplayTest, HealthyClusterAsRecorded) {
  cluster::ClusterStatus s = Collect(Recorded("status-healthy.json"));
  EXPECT_GE(server_->connections(), 2u);  // the nodes were read in parallel, one connection each
  EXPECT_TRUE(s.healthy());
  EXPECT_THAT(s.problems, IsEmpty());
  ASSERT_EQ(s.nodes.size(), 2u);
  const auto& cp = s.nodes[0];
  const auto& w = s.nodes[1];
  EXPECT_EQ(cp.node.name, "kmpsrec-status00-control-plane");
  EXPECT_EQ(cp.node.role, "control-plane");
  EXPECT_EQ(w.node.name, "kmpsrec-status00-worker");
  EXPECT_EQ(w.node.role, "worker");
  for (const auto* n : {&cp, &w}) {
    SCOPED_TRACE(n->node.name);
    EXPECT_TRUE(n->node.running);
    EXPECT_TRUE(n->node.gpu);
    EXPECT_EQ(n->shm_bytes, k8GiB);
    EXPECT_TRUE(n->pipe_socket);
    EXPECT_THAT(n->problems, IsEmpty());
    ASSERT_TRUE(n->mps.control.has_value());
    ASSERT_EQ(n->mps.servers.size(), 1u);
    EXPECT_EQ(n->mps.servers[0].ppid, n->mps.control->pid);
    // The daemon answered through its socket and lists its server (by the node's PID namespace,
    // where the process table has the host's PIDs).
    EXPECT_EQ(n->daemon.default_threads, "100.0");
    EXPECT_EQ(n->daemon.servers.size(), 1u);
  }
  EXPECT_EQ(cp.mps.control->pid, kCpControl);
  EXPECT_EQ(cp.mps.servers[0].pid, kCpServer);
  EXPECT_EQ(w.mps.control->pid, kWorkerControl);
  EXPECT_EQ(w.mps.servers[0].pid, kWorkerServer);

  nlohmann::json j = s.ToJson();
  ExpectSchema(j);
  EXPECT_EQ(j["cluster"], kCluster);
  EXPECT_EQ(j["healthy"], true);
  EXPECT_EQ(j["nodes"][1]["mps"]["control"]["pid"], kWorkerControl);
  EXPECT_EQ(j["nodes"][1]["mps"]["servers"][0]["pid"], kWorkerServer);
  EXPECT_EQ(j["nodes"][0]["shmBytes"], k8GiB);
}

TEST_F(StatusReplayTest, DaemonQuitOnTheWorkerAsRecorded) {
  cluster::ClusterStatus s = Collect(Recorded("status-daemon-quit.json"));
  EXPECT_FALSE(s.healthy());
  EXPECT_THAT(s.problems, IsEmpty());
  ASSERT_EQ(s.nodes.size(), 2u);
  const auto& cp = s.nodes[0];
  const auto& w = s.nodes[1];
  // The control plane is untouched.
  EXPECT_TRUE(cp.healthy());
  ASSERT_TRUE(cp.mps.control.has_value());
  EXPECT_EQ(cp.mps.control->pid, kCpControl);
  ASSERT_EQ(cp.mps.servers.size(), 1u);
  EXPECT_EQ(cp.mps.servers[0].pid, kCpServer);
  // The worker: running, /dev/shm still 8 GiB, the socket left behind, but no daemon, no server.
  EXPECT_EQ(w.node.name, "kmpsrec-status00-worker");
  EXPECT_TRUE(w.node.running);
  EXPECT_EQ(w.shm_bytes, k8GiB);
  EXPECT_TRUE(w.pipe_socket);
  EXPECT_FALSE(w.mps.control.has_value());
  EXPECT_THAT(w.mps.servers, IsEmpty());
  EXPECT_THAT(w.problems, ElementsAre("node kmpsrec-status00-worker: no MPS control daemon runs (kindmps-api up starts one)"));

  nlohmann::json j = s.ToJson();
  ExpectSchema(j);
  EXPECT_EQ(j["healthy"], false);
  EXPECT_EQ(j["nodes"][1]["mps"]["control"]["running"], false);
  EXPECT_TRUE(j["nodes"][1]["mps"]["control"]["pid"].is_null());
  EXPECT_EQ(j["nodes"][1]["mps"]["servers"], nlohmann::json::array());
}

// A status replay on the real H100 recording. That recording was not made by `status`: it has no
// container list, its `top` calls used ps_args `-eo pid,ppid,user,args` and `aux` (status asks
// for `-o pid,ppid,stat,args`), and it has no `cat /proc/mounts` probe. So this cassette is
// derived, and only part of it is recorded bytes:
//   - top: the H100 `top-with-client` response, byte for byte, re-targeted to the path and query
//     status sends. Real: the process table with the control daemon (1171) and the server (1250).
//     It lacks the STAT column status asks for; FindMpsProcesses works without it.
//   - the probe's exec create and inspect: the H100 `df:create` / `df:inspect` responses (real
//     exec ID, ExitCode 0), served to status's own exec of the same path.
//   - SYNTHETIC: the container list (one running control-plane node, kind's labels; the ID is the
//     ContainerID of the recorded exec inspects) and the probe's output: a /proc/mounts line for
//     /dev/shm of 8 GiB (the recorded `df -h /dev/shm` showed 8.0G), the separator and "socket".
// What this proves: status's parsing and judging of the real H100 process table, through the real
// client; not that status's own requests match a real daemon (the recorded cassettes above do).
Cassette DerivedH100StatusCassette(const Cassette& h100) {
  const std::string node = "workshop-dra-control-plane";
  const std::string container_id = "c7abbb3d274f1b1b4d3c77d2895ff17da7e2a7fe8f43b838ffac55573f567ddc";
  Cassette c;
  c.description = "derived from h100-mps-node.json for the status replay (see status_replay_test.cc)";
  std::string list_path = "/v1.41/containers/json?all=1&filters=" +
                          docker::PercentEncode(docker::ContainerFilters({"io.x-k8s.kind.cluster=workshop-dra"}, ""));
  nlohmann::json list = nlohmann::json::array(
      {{{"Id", container_id},
        {"Names", {"/" + node}},
        {"Image", "kindest-fake:gpu"},
        {"State", "running"},
        {"Labels", {{"io.x-k8s.kind.cluster", "workshop-dra"}, {"io.x-k8s.kind.role", "control-plane"}}}}});
  c.interactions.push_back(MakeInteraction("synthetic:list", "GET", list_path, JsonResponse(200, "OK", list.dump())));

  const Interaction* top = h100.Find("top-with-client");
  const Interaction* create = h100.Find("df:create");
  const Interaction* start = h100.Find("df:start");
  const Interaction* inspect = h100.Find("df:inspect");
  if (top == nullptr || create == nullptr || start == nullptr || inspect == nullptr) return c;
  Interaction t = *top;
  t.path = "/v1.41/containers/" + node + "/top?ps_args=" + docker::PercentEncode(mps::kTopPsArgs);
  c.interactions.push_back(t);
  c.interactions.push_back(*create);
  Interaction probe = *start;  // same exec ID and path; the output is synthetic
  probe.label = "synthetic:probe-start";
  probe.response_raw = ExecStreamResponse(
      ExecFrame(1, "overlay / overlay rw,relatime 0 0\n"
                   "shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=8388608k 0 0\n"
                   "--kmps-pipe--\nsocket\nthreads 100.0\nserver 1250\n"));
  c.interactions.push_back(probe);
  c.interactions.push_back(*inspect);
  return c;
}

TEST_F(StatusReplayTest, H100TopReportsTheRealDaemonAndServerHealthy) {
  Cassette h100 = Recorded("h100-mps-node.json");
  Cassette derived = DerivedH100StatusCassette(h100);
  ASSERT_EQ(derived.interactions.size(), 5u);
  cluster::ClusterStatus s = Collect(std::move(derived), "workshop-dra");
  EXPECT_TRUE(s.healthy());
  ASSERT_EQ(s.nodes.size(), 1u);
  const auto& n = s.nodes[0];
  EXPECT_EQ(n.node.name, "workshop-dra-control-plane");
  EXPECT_THAT(n.problems, IsEmpty());
  ASSERT_TRUE(n.mps.control.has_value());
  EXPECT_EQ(n.mps.control->pid, 1171);
  ASSERT_EQ(n.mps.servers.size(), 1u);
  EXPECT_EQ(n.mps.servers[0].pid, 1250);
  EXPECT_EQ(n.mps.servers[0].ppid, 1171);
  EXPECT_EQ(n.shm_bytes, k8GiB);
  nlohmann::json j = s.ToJson();
  ExpectSchema(j);
  EXPECT_EQ(j["nodes"][0]["mps"]["control"]["pid"], 1171);
  EXPECT_EQ(j["nodes"][0]["mps"]["servers"][0]["pid"], 1250);
}

}  // namespace
}  // namespace kmps::testing
