#include "cluster/status.h"

#include <gtest/gtest.h>

#include "support/fake_node.h"

namespace kmps::cluster {
namespace {

config::ClusterConfig Config() {
  config::ClusterConfig c;
  c.name = "demo";
  return c;
}

TEST(ReadNodeStatus, AHealthyGpuNode) {
  testing::FakeNode node("demo-control-plane");
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}, {"64", "34", "Sl", "nvidia-cuda-mps-server"}});
  node.handler = [](const node::Command& e) -> StatusOr<node::CommandResult> {
    EXPECT_EQ(e.argv[4], "/tmp/nvidia-mps");
    return node::CommandResult{
        0, "shm /dev/shm tmpfs rw,size=8388608k 0 0\n--kmps-pipe--\nsocket\nthreads 100.0\nserver 64\n", ""};
  };
  NodeStatus s = ReadNodeStatus(node, Config());
  EXPECT_TRUE(s.healthy()) << (s.problems.empty() ? "" : s.problems[0]);
  EXPECT_EQ(s.shm_bytes, 8ull << 30);
  EXPECT_TRUE(s.pipe_socket);
  ASSERT_TRUE(s.mps.control.has_value());
  EXPECT_EQ(s.mps.control->pid, 34);

  ClusterStatus cs;
  cs.cluster = "demo";
  cs.nodes.push_back(s);
  EXPECT_TRUE(cs.healthy());
  auto j = cs.ToJson();
  EXPECT_EQ(j["cluster"], "demo");
  EXPECT_EQ(j["healthy"], true);
  EXPECT_EQ(j["nodes"][0]["shmBytes"], 8589934592ull);
  EXPECT_EQ(j["nodes"][0]["mps"]["control"]["pid"], 34);
  EXPECT_EQ(j["nodes"][0]["mps"]["servers"][0]["pid"], 64);
}

TEST(ReadNodeStatus, StaleSocketWithoutDaemonIsUnhealthy) {
  testing::FakeNode node("demo-control-plane");
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
  node.handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return node::CommandResult{0, "shm /dev/shm tmpfs rw,size=8388608k 0 0\n--kmps-pipe--\nsocket\n", ""};
  };
  NodeStatus s = ReadNodeStatus(node, Config());
  EXPECT_TRUE(s.pipe_socket);
  EXPECT_FALSE(s.healthy());
  ASSERT_FALSE(s.problems.empty());
  EXPECT_NE(s.problems[0].find("no MPS control daemon"), std::string::npos);
}

// A daemon counts only where `kindmps-api mps` would reach it: its socket in this cluster's pipe
// directory, answering. status and mps then never disagree.
TEST(JudgeNode, ADaemonCountsOnlyWhenItServesThisPipeDirectory) {
  NodeStatus s;
  s.node = {"demo-worker", "worker", true, true};
  s.shm_bytes = 8ull << 30;
  s.mps.control = mps::MpsProcess{34, 1};
  s.mps.servers = {mps::MpsProcess{64, 34}};
  // Its socket deleted, or a daemon of another pipe directory.
  auto p = JudgeNode(s, Config());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "node demo-worker: the MPS control daemon (pid 34) has no control socket /tmp/nvidia-mps/control "
                  "(deleted, or the daemon serves another pipe directory); kindmps-api up restarts it");
  // A socket no daemon answers on.
  s.pipe_socket = true;
  p = JudgeNode(s, Config());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "node demo-worker: no MPS control daemon answers on /tmp/nvidia-mps/control");
  // A server still starting: the process is there, the daemon lists none yet.
  s.daemon.default_threads = "100.0";
  p = JudgeNode(s, Config());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "node demo-worker: the MPS server is not ready: the daemon lists none (kindmps-api up starts one)");
  s.daemon.servers = {{64, {}}};
  EXPECT_TRUE(JudgeNode(s, Config()).empty());
}

TEST(JudgeNode, APausedNodeSaysDockerUnpause) {
  NodeStatus s;
  s.node = {"demo-worker", "worker", false, true, /*paused=*/true};
  EXPECT_EQ(JudgeNode(s, Config()), std::vector<std::string>{"node demo-worker is paused (docker unpause demo-worker)"});
}

TEST(ShapeProblems, NamesEachMissingNodeAndEachStranger) {
  config::ClusterConfig c = Config();
  c.workers = 2;
  EXPECT_TRUE(ShapeProblems({"demo-control-plane", "demo-worker", "demo-worker2"}, c).empty());
  EXPECT_EQ(ShapeProblems({"demo-control-plane", "demo-worker", "demo-worker3"}, c),
            (std::vector<std::string>{"node demo-worker2 of cluster demo is missing (removed?); kindmps-api up "
                                      "--recreate makes the cluster again",
                                      "node demo-worker3 is not one of cluster demo's 3 saved nodes "
                                      "(demo-control-plane, demo-worker, demo-worker2); kindmps-api up --recreate "
                                      "makes the cluster again"}));
}

TEST(ReadNodeStatus, TheDaemonsOwnViewComesFromTheSameProbe) {
  testing::FakeNode node("demo-control-plane");
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}, {"64", "34", "Sl", "nvidia-cuda-mps-server"}});
  node.handler = [](const node::Command& e) -> StatusOr<node::CommandResult> {
    EXPECT_EQ(e.env[0], "CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps");  // the commands reach this cluster's daemon
    return node::CommandResult{
        0, "shm /dev/shm tmpfs rw,size=8388608k 0 0\n--kmps-pipe--\nsocket\nthreads 50.0\nserver 452 0 0 17\n", ""};
  };
  NodeStatus s = ReadNodeStatus(node, Config());
  EXPECT_EQ(s.daemon.default_threads, "50.0");
  ASSERT_EQ(s.daemon.servers.size(), 1u);
  EXPECT_EQ(s.daemon.servers[0].pid, 452);
  EXPECT_EQ(s.daemon.servers[0].clients, (std::vector<int>{0, 0, 17}));
  EXPECT_EQ(s.daemon.client_count(), 3u);
  ClusterStatus cs;
  cs.nodes.push_back(s);
  auto j = cs.ToJson();
  EXPECT_EQ(j["nodes"][0]["mps"]["control"]["defaultActiveThreadPercentage"], "50.0");
  EXPECT_EQ(j["nodes"][0]["mps"]["clients"][0]["server"], 452);
  EXPECT_EQ(j["nodes"][0]["mps"]["clients"][0]["clients"].size(), 3u);
}

TEST(ParseDaemonLine, TakesOnlyWhatTheDaemonSaidInFull) {
  DaemonView v;
  ParseDaemonLine("threads Cannot find MPS control daemon process", v);
  ParseDaemonLine("server 12 Cannot", v);
  ParseDaemonLine("server x", v);
  ParseDaemonLine("something else", v);
  EXPECT_FALSE(v.default_threads.has_value());
  EXPECT_TRUE(v.servers.empty());
  ParseDaemonLine("server 7", v);  // a server without clients
  ASSERT_EQ(v.servers.size(), 1u);
  EXPECT_TRUE(v.servers[0].clients.empty());
}

TEST(ParseDaemonLine, CountsTheDaemonsRefusals) {
  DaemonView v;
  ParseDaemonLine("refused 2", v);
  EXPECT_EQ(v.refused_commands, 2);
  DaemonView none;
  ParseDaemonLine("refused", none);
  ParseDaemonLine("refused x", none);
  EXPECT_FALSE(none.refused_commands.has_value());
}

TEST(SharedGpuNote, OnlyForTwoOrMoreDaemonsOnOneHost) {
  EXPECT_EQ(SharedGpuNote(0), "");
  EXPECT_EQ(SharedGpuNote(1), "");
  EXPECT_NE(SharedGpuNote(2).find("2 GPU nodes share this host's GPUs"), std::string::npos);
  EXPECT_NE(SharedGpuNote(2).find("time-slices between the servers"), std::string::npos);
}

TEST(MapClientPods, NamesThePodOfEachClientsContainer) {
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  // The shape of `crictl ps -o json` (crictl v1.34 in the node image).
  std::string crictl = R"({"containers":[
    {"id":")" + a + R"(","labels":{"io.kubernetes.pod.name":"trainer","io.kubernetes.pod.namespace":"ml"}},
    {"id":")" + b + R"(","labels":{"io.kubernetes.pod.name":"notebook","io.kubernetes.pod.namespace":"default"}},
    {"id":")" + c + R"(","labels":{}}]})";
  DaemonView v;
  MapClientPods({{101, a}, {102, b}, {103, c}, {104, std::string(64, 'd')}}, crictl, v);
  EXPECT_EQ(v.client_pods, (std::map<int, std::string>{{101, "ml/trainer"}, {102, "default/notebook"}}));
  DaemonView bad;
  MapClientPods({{101, a}}, "crictl: command failed", bad);
  MapClientPods({{101, a}}, R"({"containers": {}})", bad);
  EXPECT_TRUE(bad.client_pods.empty());
}

TEST(JudgeNode, SmallShmAndMissingServerAreProblems) {
  NodeStatus s;
  s.node = {"demo-worker", "worker", true, true};
  s.shm_bytes = 64ull << 20;
  s.mps.control = mps::MpsProcess{34, 1};
  s.pipe_socket = true;
  s.daemon.default_threads = "100.0";
  auto p = JudgeNode(s, Config());
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].find("/dev/shm is 67108864 bytes"), std::string::npos);
  EXPECT_NE(p[1].find("no MPS server"), std::string::npos);

  config::ClusterConfig no_server = Config();
  no_server.mps.start_server = false;
  EXPECT_EQ(JudgeNode(s, no_server).size(), 1u);
}

TEST(JudgeNode, AStoppedNodeIsReportedNotCrashedOn) {
  NodeStatus s;
  s.node = {"demo-worker", "worker", false, true};
  auto p = JudgeNode(s, Config());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "node demo-worker is not running (docker start demo-worker, or kindmps-api up --recreate)");
}

TEST(JudgeNode, NonGpuNodesOnlyNeedToRun) {
  NodeStatus s;
  s.node = {"demo-worker", "worker", true, false};
  EXPECT_TRUE(JudgeNode(s, Config()).empty());
}

TEST(ClusterStatus, NoNodesIsUnhealthy) {
  ClusterStatus cs;
  cs.cluster = "demo";
  EXPECT_FALSE(cs.healthy());
}

NodeStatus GpuNode(const std::string& name, std::vector<int> gpus) {
  NodeStatus s;
  s.node.name = name;
  s.node.running = true;
  s.node.gpu = true;
  s.gpus = std::move(gpus);
  return s;
}

TEST(GpuAssignmentProblems, ReadFromTheDeviceNodesEachNodeHas) {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "lab";
  c.workers = 2;
  ClusterStatus status;
  status.nodes = {GpuNode("lab-worker", {0, 1}), GpuNode("lab-worker2", {1})};
  GpuAssignmentProblems(status, c);  // gpus: all: nothing to check
  EXPECT_TRUE(status.nodes[0].problems.empty());

  c.gpus = *config::ParseGpuAssignment("one-per-node");
  GpuAssignmentProblems(status, c);
  ASSERT_EQ(status.nodes[0].problems.size(), 1u);
  EXPECT_EQ(status.nodes[0].problems[0],
            "node lab-worker has the device nodes of 2 GPUs [0, 1], but was given 1 (gpus one-per-node): kindmps-api "
            "up gives each its own again");
  ASSERT_EQ(status.nodes[1].problems.size(), 1u);
  EXPECT_EQ(status.nodes[1].problems[0].find("node lab-worker2 has /dev/nvidia1, which is node lab-worker's too"), 0u);

  status.nodes = {GpuNode("lab-worker", {0}), GpuNode("lab-worker2", {2})};
  c.gpus = *config::ParseGpuAssignment("lab-worker=0,lab-worker2=1");
  GpuAssignmentProblems(status, c);
  EXPECT_TRUE(status.nodes[0].problems.empty());
  ASSERT_EQ(status.nodes[1].problems.size(), 1u);
  EXPECT_EQ(status.nodes[1].problems[0].find("node lab-worker2 lacks /dev/nvidia1, its GPU"), 0u);
  EXPECT_FALSE(status.healthy());
}

// mps.daemons perGpu: the probe reads each GPU's daemon in its own pipe directory, and the node is
// healthy only when every GPU's daemon runs, answers and has its server.
TEST(ReadNodeStatus, ADaemonPerGpuIsReadAndJudgedPerGpu) {
  config::ClusterConfig config = Config();
  config.mps.daemons = config::MpsSettings::Daemons::kPerGpu;
  testing::FakeNode node("demo-control-plane");
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"},
                     {"35", "1", "Ssl", "nvidia-cuda-mps-control -d"},
                     {"64", "34", "Sl", "nvidia-cuda-mps-server"}});
  node.handler = [](const node::Command& e) -> StatusOr<node::CommandResult> {
    EXPECT_EQ(e.argv[8], "perGpu");
    return node::CommandResult{0,
                               "shm /dev/shm tmpfs rw,size=8388608k 0 0\n--kmps-pipe--\ngpus 0 1\n"
                               "daemon 0\npid 34\nsocket\nthreads 100.0\nserver 64\n"
                               "daemon 1\npid 35\nsocket\nthreads 50.0\n",
                               ""};
  };
  NodeStatus s = ReadNodeStatus(node, config);
  ASSERT_EQ(s.gpu_daemons.size(), 2u);
  EXPECT_EQ(s.gpu_daemons[1].pipe_directory, "/tmp/nvidia-mps/gpu1");
  EXPECT_EQ(s.gpu_daemons[1].pid, 35);
  EXPECT_EQ(s.gpu_daemons[1].daemon.default_threads, "50.0");
  EXPECT_FALSE(s.pipe_socket);  // no node-wide daemon
  // GPU 1's daemon has no server: that GPU, and only it, is named.
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_EQ(s.problems[0], "node demo-control-plane GPU 1: no MPS server runs (kindmps-api up starts one)");
  ClusterStatus cs;
  cs.cluster = "demo";
  cs.nodes.push_back(s);
  auto j = cs.ToJson();
  EXPECT_EQ(j["nodes"][0]["daemons"][0]["gpu"], 0);
  EXPECT_EQ(j["nodes"][0]["daemons"][0]["servers"][0]["pid"], 64);
  EXPECT_EQ(j["nodes"][0]["daemons"][1]["control"]["defaultActiveThreadPercentage"], "50.0");
  EXPECT_TRUE(j["nodes"][0]["daemons"][1]["servers"].empty());
  // A GPU whose daemon is gone.
  s.gpu_daemons.pop_back();
  auto p = JudgeNode(s, config);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "node demo-control-plane GPU 1: no MPS control daemon runs for it in /tmp/nvidia-mps/gpu1 "
                  "(kindmps-api up starts one)");
}
}  // namespace
}  // namespace kmps::cluster
