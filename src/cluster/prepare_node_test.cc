#include "cluster/prepare_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_node.h"

namespace kmps::cluster {
namespace {

using testing::FakeNode;

config::ClusterConfig Config() {
  config::ClusterConfig c;
  c.name = "w";
  return c;
}

constexpr const char* kBigShm = "shm /dev/shm tmpfs rw,nosuid,nodev,size=8388608k 0 0\n";

// A script run that reports `lines` and then /proc/mounts with `mounts`.
node::CommandResult Reported(const std::string& lines, const std::string& mounts = kBigShm, std::string err = "") {
  return {0, lines + "kmps: mounts\n" + mounts, std::move(err)};
}

TEST(PrepareNodeCommand, ValuesArePositionalArgumentsNeverScriptText) {
  config::ClusterConfig c = Config();
  c.mps.pipe_directory = "/tmp/x'; rm -rf / #";
  c.mps.server_uid = 1000;
  c.mps.default_active_thread_percentage = 50;
  c.mps.pinned_device_memory_limits = {{"0", "2G"}};
  node::Command e = PrepareNodeCommand(c, "{\"cdiVersion\": \"0.6.0\"}\n", std::chrono::seconds(7));
  ASSERT_EQ(e.argv.size(), 11u);
  EXPECT_EQ(e.argv[0], "sh");
  EXPECT_EQ(e.argv[1], "-c");
  EXPECT_EQ(e.argv[2].find("rm -rf"), std::string::npos);
  EXPECT_EQ(e.argv[4], "8589934592");
  EXPECT_EQ(e.argv[5], "7");
  EXPECT_EQ(e.argv[6], "1000");
  EXPECT_EQ(e.argv[7], "/var/run/cdi/kindmps.json");
  EXPECT_EQ(e.argv[8], "{\"cdiVersion\": \"0.6.0\"}\n");  // the spec is data too
  EXPECT_EQ(e.argv[9], "set_default_active_thread_percentage 50");
  EXPECT_EQ(e.argv[10], "set_default_device_pinned_mem_limit 0 2G");
  EXPECT_EQ(e.env[0], "CUDA_MPS_PIPE_DIRECTORY=/tmp/x'; rm -rf / #");
  EXPECT_GT(e.timeout, std::chrono::seconds(7));  // the node's timeouts fire first
  c.mps.start_server = false;
  EXPECT_EQ(PrepareNodeCommand(c).argv[6], "");  // no server
  EXPECT_EQ(PrepareNodeCommand(c).argv[8], "");  // no spec
}

TEST(ParsePrepareResult, ARemountIsVerifiedFromTheMountsAfterIt) {
  auto r = ParsePrepareResult("w-control-plane", Reported("kmps: shm resized\nkmps: daemon started\nkmps: server started\n"),
                              Config(), std::chrono::seconds(20));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->shm_resized);
  EXPECT_EQ(r->shm_bytes, 8ull << 30);
  EXPECT_TRUE(r->daemon_started);
  EXPECT_EQ(r->server, "started");

  auto small = ParsePrepareResult("w-control-plane",
                                  Reported("kmps: shm resized\n", "shm /dev/shm tmpfs rw,size=65536k 0 0\n"), Config(),
                                  std::chrono::seconds(20));
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("after remount"), std::string::npos);
}

TEST(ParsePrepareResult, ABigEnoughShmIsLeftAlone) {
  auto r = ParsePrepareResult("w-control-plane",
                              Reported("kmps: daemon running\nkmps: server running\nkmps: socket\n",
                                       "shm /dev/shm tmpfs rw,size=16g 0 0\n"),
                              Config(), std::chrono::seconds(20));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->shm_resized);
  EXPECT_FALSE(r->daemon_started);
  EXPECT_TRUE(r->pipe_socket);
  EXPECT_EQ(r->shm_bytes, 16ull << 30);
}

TEST(ParsePrepareResult, APermissionFailureSaysWhatIsNeeded) {
  node::CommandResult ran{0, "kmps: fail shm 32\n", "mount: permission denied (are you root?)\n"};
  auto r = ParsePrepareResult("w-control-plane", ran, Config(), std::chrono::seconds(20));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("w-control-plane"), std::string::npos);
  EXPECT_NE(r.status().message().find("CAP_SYS_ADMIN"), std::string::npos);
  EXPECT_NE(r.status().message().find("permission denied"), std::string::npos);
}

TEST(ParsePrepareResult, TheDaemonsFailuresAreNamed) {
  node::CommandResult missing{
      0, "kmps: fail daemon 127\n",
      "OCI runtime exec failed: exec: \"nvidia-cuda-mps-control\": executable file not found in $PATH"};
  auto r = ParsePrepareResult("gpu-control-plane", missing, Config(), std::chrono::seconds(20));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gpu-control-plane"), std::string::npos);
  EXPECT_NE(r.status().message().find("mounts"), std::string::npos);

  auto silent = ParsePrepareResult("gpu-worker", {0, "kmps: fail daemon 244\n", ""}, Config(), std::chrono::seconds(20));
  ASSERT_FALSE(silent.ok());
  EXPECT_EQ(silent.status().code(), Code::kEnvironment);
  EXPECT_NE(silent.status().message().find("libnvidia-ml.so.1"), std::string::npos);
}

TEST(ParsePrepareResult, AFailedSettingNamesItsCommand) {
  config::ClusterConfig c = Config();
  c.mps.default_active_thread_percentage = 50;
  c.mps.pinned_device_memory_limits = {{"7", "2G"}};
  auto r = ParsePrepareResult("w-control-plane", {0, "kmps: daemon started\nkmps: fail command 1 1\n", "Invalid device\n"},
                              c, std::chrono::seconds(20));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("set_default_device_pinned_mem_limit 7 2G"), std::string::npos)
      << r.status().message();
  auto unknown = ParsePrepareResult("w-control-plane", {0, "kmps: fail command 0 0\n", "Unknown command \"x\"\n"}, c,
                                    std::chrono::seconds(20));
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
}

TEST(ParsePrepareResult, TheThreadPercentageIsReadBackFromTheDaemon) {
  config::ClusterConfig c = Config();
  c.mps.default_active_thread_percentage = 50;
  auto same = ParsePrepareResult("w-worker", Reported("kmps: daemon started\nkmps: threads 50.0\n"), c,
                                 std::chrono::seconds(20));
  EXPECT_TRUE(same.ok()) << same.status().message();
  auto other = ParsePrepareResult("w-worker", Reported("kmps: daemon started\nkmps: threads 100.0\n"), c,
                                  std::chrono::seconds(20));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("reports default active thread percentage '100.0'"), std::string::npos)
      << other.status().message();
  EXPECT_FALSE(ParsePrepareResult("w-worker", Reported("kmps: daemon started\n"), c, std::chrono::seconds(20)).ok());
}

TEST(ParsePrepareResult, ThePinnedLimitsAreReadBackFromTheDaemon) {
  config::ClusterConfig c = Config();
  c.mps.pinned_device_memory_limits = {{"0", "2g"}, {"1", "512M"}};
  // As the H200 answered: the limit as set; case does not matter.
  auto same = ParsePrepareResult("w-worker", Reported("kmps: daemon started\nkmps: pinned 0 2G\nkmps: pinned 1 512M\n"),
                                 c, std::chrono::seconds(20));
  EXPECT_TRUE(same.ok()) << same.status().message();
  auto unset = ParsePrepareResult("w-worker", Reported("kmps: daemon started\nkmps: pinned 0 2G\nkmps: pinned 1\n"), c,
                                  std::chrono::seconds(20));
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.status().message().find("reports pinned memory limit '' for device 1 after "
                                          "set_default_device_pinned_mem_limit 1 512M"),
            std::string::npos)
      << unset.status().message();
  EXPECT_FALSE(ParsePrepareResult("w-worker", Reported("kmps: daemon started\n"), c, std::chrono::seconds(20)).ok());
}

TEST(ParsePrepareResult, TheSpecAndTheReadBackFailuresAreNamed) {
  auto spec = ParsePrepareResult("w-worker", {0, "kmps: daemon started\nkmps: fail cdi 1\n", "mkdir: Read-only file system\n"},
                                 Config(), std::chrono::seconds(20));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "cannot write the CDI spec /var/run/cdi/kindmps.json in node w-worker (exit 1): mkdir: Read-only file system");
  config::ClusterConfig c = Config();
  c.mps.default_active_thread_percentage = 50;
  auto readback = ParsePrepareResult("w-worker", {0, "kmps: fail readback 1\n", "Cannot find MPS control daemon process\n"},
                                     c, std::chrono::seconds(20));
  ASSERT_FALSE(readback.ok());
  EXPECT_EQ(readback.status().code(), Code::kNotFound);
  EXPECT_NE(readback.status().message().find("no MPS control daemon runs in node w-worker"), std::string::npos);
  config::ClusterConfig p = Config();
  p.mps.pinned_device_memory_limits = {{"0", "2G"}};
  auto pinned = ParsePrepareResult("w-worker", {0, "kmps: fail pinned 1\n", "Unknown command \"get_default_device_pinned_mem_limit 0\"\n"},
                                   p, std::chrono::seconds(20));
  ASSERT_FALSE(pinned.ok());
  EXPECT_EQ(pinned.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(pinned.status().message(),
            "MPS control daemon in node w-worker: Unknown command \"get_default_device_pinned_mem_limit 0\"");
}

TEST(ParsePrepareResult, AScriptThatEndsEarlyOrCannotRunIsAnError) {
  EXPECT_EQ(ParsePrepareResult("n", {0, "kmps: daemon started\n", ""}, Config(), std::chrono::seconds(20)).status().code(),
            Code::kProtocol);
  auto no_sh = ParsePrepareResult("n", {127, "", "exec: \"sh\": executable file not found"}, Config(),
                                  std::chrono::seconds(20));
  ASSERT_FALSE(no_sh.ok());
  EXPECT_NE(no_sh.status().message().find("node n"), std::string::npos);
}

TEST(PrepareNode, OneExecAndOneTopForANodeThatComesUp) {
  FakeNode node("w-control-plane");
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
  node.handler = [&](const node::Command& c) -> StatusOr<node::CommandResult> {
    EXPECT_EQ(c.argv[0], "sh");
    node.SetProcesses({{"1", "0", "Ss", "/sbin/init"},
                       {"57", "1", "Ssl", "nvidia-cuda-mps-control -d"},
                       {"64", "57", "Sl", "nvidia-cuda-mps-server"}});
    return Reported("kmps: shm resized\nkmps: daemon started\nkmps: threads 100.0\nkmps: server started\nkmps: socket\n");
  };
  auto r = PrepareNode(node, Config());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(node.commands.size(), 1u);
  EXPECT_EQ(node.top_calls, 1);
  EXPECT_TRUE(r->status.healthy()) << r->status.problems.front();
  EXPECT_EQ(r->status.mps.control->pid, 57);
  EXPECT_TRUE(r->status.pipe_socket);
  EXPECT_EQ(r->note, "w-control-plane: /dev/shm 8192 MiB, control daemon pid 57 (started), server pid 64");
}

// A daemon whose control socket was deleted is stopped and started again by the script, and the
// note says why.
TEST(PrepareNode, ADaemonWithoutItsSocketIsRestarted) {
  FakeNode node("w-control-plane");
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"},
                     {"57", "1", "Ssl", "nvidia-cuda-mps-control -d"},
                     {"64", "57", "Sl", "nvidia-cuda-mps-server"}});
  node.handler = [&](const node::Command& c) -> StatusOr<node::CommandResult> {
    // The script finds this pipe directory's daemon by its environment before it restarts it.
    EXPECT_NE(c.argv[2].find("CUDA_MPS_PIPE_DIRECTORY="), std::string::npos);
    EXPECT_NE(c.argv[2].find("say daemon restarted"), std::string::npos);
    return Reported("kmps: daemon restarted\nkmps: threads 100.0\nkmps: server started\nkmps: socket\n");
  };
  auto r = PrepareNode(node, Config());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->status.healthy()) << r->status.problems.front();
  EXPECT_EQ(r->note, "w-control-plane: /dev/shm 8192 MiB, control daemon pid 57 (restarted: its control socket was "
                     "gone), server pid 64");
}

TEST(PrepareNode, AHangingStartServerIsJudgedByTheProcessTable) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  int tops = 0;
  node.top_handler = [&]() -> StatusOr<node::ProcessTable> {
    node::ProcessTable t;
    t.titles = {"PID", "PPID", "STAT", "COMMAND"};
    t.processes = {{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}};
    // The server shows on the second look.
    if (++tops > 1) t.processes.push_back({"64", "34", "Sl", "nvidia-cuda-mps-server"});
    return t;
  };
  node.handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return Reported("kmps: daemon running\nkmps: server timeout\n");
  };
  auto r = PrepareNode(node, Config(), "", std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status.mps.servers.size(), 1u);
  EXPECT_EQ(r->status.mps.servers[0].pid, 64);
}

TEST(PrepareNode, AHangWithNoServerIsADeadline) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return Reported("kmps: daemon running\nkmps: server timeout\n");
  };
  auto r = PrepareNode(node, Config(), "", std::chrono::seconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
}

TEST(PrepareNode, ADaemonThatNeverShowsIsAFailureNamingItsLog) {
  FakeNode node("w-worker");
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}, {"20", "1", "Z", "[nvidia-cuda-mps] <defunct>"}});
  node.handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return Reported("kmps: daemon started\nkmps: server started\n");
  };
  auto r = PrepareNode(node, Config(), "", std::chrono::milliseconds(300));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("w-worker"), std::string::npos);
  EXPECT_NE(r.status().message().find("/var/log/nvidia-mps/control.log"), std::string::npos);
}

// A node given GPUs of its own: the script keeps those device nodes (the others are removed) and
// the daemon is started with their UUIDs; it reports what it removed and what is left.
TEST(PrepareNodeCommand, AGpuPlanKeepsItsDevicesAndNamesThemToTheDaemon) {
  GpuPlan plan;
  plan.all = false;
  plan.keep = {1, 3};
  plan.visible_devices = "GPU-a,GPU-b";
  node::Command c = PrepareNodeCommand(Config(), "", std::chrono::seconds(20), plan);
  EXPECT_THAT(c.env, ::testing::Contains("KMPS_KEEP_GPUS=1 3"));
  EXPECT_THAT(c.env, ::testing::Contains("CUDA_VISIBLE_DEVICES=GPU-a,GPU-b"));
  node::Command all = PrepareNodeCommand(Config(), "", std::chrono::seconds(20));
  for (const auto& e : all.env) {
    EXPECT_EQ(e.rfind("KMPS_KEEP_GPUS=", 0), std::string::npos) << e;
    EXPECT_EQ(e.rfind("CUDA_VISIBLE_DEVICES=", 0), std::string::npos) << e;
  }
}

TEST(ParsePrepareResult, WhatWasMaskedAndWhatIsLeftAreReported) {
  auto r = ParsePrepareResult("w-worker",
                              Reported("kmps: masked 0\nkmps: masked 2\nkmps: daemon started\nkmps: server started\n"
                                       "kmps: gpus 1\n"),
                              Config(), std::chrono::seconds(20));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->masked, (std::vector<int>{0, 2}));
  EXPECT_EQ(r->gpus, (std::vector<int>{1}));
  node::CommandResult ran{0, "kmps: fail mask 1\n", "rm: can't remove '/dev/nvidia0': Device or resource busy\n"};
  auto failed = ParsePrepareResult("w-worker", ran, Config(), std::chrono::seconds(20));
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(),
              ::testing::HasSubstr("cannot remove the device nodes of the GPUs that are not node w-worker's (exit 1): "
                                   "rm: can't remove '/dev/nvidia0': Device or resource busy"));
}

TEST(JudgeNode, AGpuNodeWithAGpuItWasNotGivenIsUnhealthy) {
  NodeStatus s;
  s.node.name = "w-worker";
  s.node.running = true;
  s.node.gpu = true;
  s.assigned_gpus = std::vector<int>{1};
  s.gpus = {0, 1};
  auto problems = JudgeNode(s, Config());
  ASSERT_FALSE(problems.empty());
  EXPECT_THAT(problems[0], ::testing::HasSubstr("node w-worker has the device nodes of GPUs [0, 1], but was given [1]"));
  s.gpus = {1};
  problems = JudgeNode(s, Config());
  for (const auto& p : problems) EXPECT_EQ(p.find("device nodes of GPUs"), std::string::npos) << p;
}

}  // namespace
}  // namespace kmps::cluster
