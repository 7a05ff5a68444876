#include "mps/mps_control.h"

#include <gtest/gtest.h>

#include "support/fake_node.h"

namespace kmps::mps {
namespace {

using docker::ExecOptions;
using docker::ExecResult;
using testing::FakeNode;

MpsSettings Settings() {
  MpsSettings s;
  s.pipe_directory = "/tmp/nvidia-mps";
  s.log_directory = "/var/log/nvidia-mps";
  return s;
}

TEST(ControlCommandExec, PassesTheCommandAsDataNotAsShellText) {
  std::string evil = "get_server_list'; rm -rf / #";
  ExecOptions e = ControlCommandExec(Settings(), evil, std::chrono::seconds(7));
  ASSERT_EQ(e.cmd.size(), 6u);
  EXPECT_EQ(e.cmd[0], "sh");
  EXPECT_EQ(e.cmd[1], "-c");
  EXPECT_EQ(e.cmd[2].find(evil), std::string::npos);  // never inside the script
  EXPECT_EQ(e.cmd[4], evil);
  EXPECT_EQ(e.cmd[5], "7");
  EXPECT_NE(e.cmd[2].find("nvidia-cuda-mps-control"), std::string::npos);
  EXPECT_NE(e.cmd[2].find("timeout -s KILL"), std::string::npos);
  EXPECT_EQ(e.env, (std::vector<std::string>{"CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps",
                                             "CUDA_MPS_LOG_DIRECTORY=/var/log/nvidia-mps"}));
  EXPECT_GT(e.timeout, std::chrono::seconds(7));  // the node's timeout fires first
}

TEST(ParseServerList, OnePidALine) {
  EXPECT_TRUE(ParseServerList("").empty());
  EXPECT_EQ(ParseServerList("452\n"), std::vector<int>{452});
  EXPECT_EQ(ParseServerList("444\n541\n"), (std::vector<int>{444, 541}));
  EXPECT_TRUE(ParseServerList("Cannot find MPS control daemon process\n").empty());
}

TEST(ClassifyReply, RecognisesTheRecordedReplies) {
  EXPECT_EQ(ClassifyReply({0, "452\n", ""}), ReplyKind::kOk);
  EXPECT_EQ(ClassifyReply({1, "Cannot find MPS control daemon process\n", ""}), ReplyKind::kNoDaemon);
  EXPECT_EQ(ClassifyReply({0, "Cannot send command to MPS control daemon process\n", ""}), ReplyKind::kTransient);
  EXPECT_EQ(ClassifyReply({0, "Unknown command \"help\"\n", ""}), ReplyKind::kUnknownCommand);
  EXPECT_EQ(ClassifyReply({2, "", "boom"}), ReplyKind::kError);
}

TEST(SendCommand, RetriesTransientRefusals) {
  FakeNode node;
  int calls = 0;
  node.handler = [&](const ExecOptions&) -> StatusOr<ExecResult> {
    if (++calls < 3) return ExecResult{0, "Cannot send command to MPS control daemon process\n", ""};
    return ExecResult{0, "64\n", ""};
  };
  CommandOptions o;
  o.backoff = std::chrono::milliseconds(1);
  auto r = SendCommand(node, Settings(), "get_server_list", o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "64\n");
  EXPECT_EQ(calls, 3);
}

TEST(SendCommand, GivesUpAfterTheAttempts) {
  FakeNode node;
  node.handler = [](const ExecOptions&) -> StatusOr<ExecResult> {
    return ExecResult{0, "Cannot send command to MPS control daemon process\n", ""};
  };
  CommandOptions o;
  o.backoff = std::chrono::milliseconds(1);
  o.attempts = 2;
  auto r = SendCommand(node, Settings(), "get_server_list", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailed);
  EXPECT_EQ(node.commands.size(), 2u);
}

TEST(SendCommand, NamesTheNodeWhenNoDaemonRuns) {
  FakeNode node("w-worker");
  node.handler = [](const ExecOptions&) -> StatusOr<ExecResult> {
    return ExecResult{1, "Cannot find MPS control daemon process\n", ""};
  };
  auto r = SendCommand(node, Settings(), "get_server_list");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("w-worker"), std::string::npos);
}

TEST(SendCommand, UnknownCommandIsAUsageError) {
  FakeNode node;
  node.handler = [](const ExecOptions&) -> StatusOr<ExecResult> { return ExecResult{0, "Unknown command \"help\"\n", ""}; };
  auto r = SendCommand(node, Settings(), "help");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(SendCommand, KilledByTheNodesTimeoutIsADeadline) {
  FakeNode node;
  node.handler = [](const ExecOptions&) -> StatusOr<ExecResult> { return ExecResult{137, "", ""}; };
  auto r = SendCommand(node, Settings(), "start_server -uid 0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
}

TEST(SendCommand, RejectsMultiLineCommands) {
  FakeNode node;
  auto r = SendCommand(node, Settings(), "get_server_list\nquit");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(node.commands.empty());
}

TEST(EnsureDaemon, LeavesALiveDaemonAlone) {
  FakeNode node;
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}, {"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  auto r = EnsureDaemon(node, Settings());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->control_pid, 34);
  EXPECT_FALSE(r->started);
  EXPECT_TRUE(node.commands.empty());
}

TEST(EnsureDaemon, StartsOneWhenOnlyStaleSocketsRemain) {
  FakeNode node;
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}, {"20", "1", "Z", "[nvidia-cuda-mps] <defunct>"}});
  node.handler = [&](const ExecOptions& e) -> StatusOr<ExecResult> {
    if (e.cmd[0] == "nvidia-cuda-mps-control") {
      node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}, {"57", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
    }
    return ExecResult{0, "", ""};
  };
  auto r = EnsureDaemon(node, Settings());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->control_pid, 57);
  EXPECT_TRUE(r->started);
  ASSERT_EQ(node.commands.size(), 2u);
  EXPECT_EQ(node.commands[0].cmd, (std::vector<std::string>{"mkdir", "-p", "/tmp/nvidia-mps", "/var/log/nvidia-mps"}));
  EXPECT_EQ(node.commands[1].cmd, (std::vector<std::string>{"nvidia-cuda-mps-control", "-d"}));
  EXPECT_EQ(node.commands[1].env[0], "CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps");
}

TEST(EnsureDaemon, MissingBinaryNamesTheNodeAndTheMounts) {
  FakeNode node("gpu-control-plane");
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
  node.handler = [](const ExecOptions& e) -> StatusOr<ExecResult> {
    if (e.cmd[0] == "nvidia-cuda-mps-control") {
      return ExecResult{127, "OCI runtime exec failed: exec: \"nvidia-cuda-mps-control\": executable file not found in $PATH", ""};
    }
    return ExecResult{0, "", ""};
  };
  auto r = EnsureDaemon(node, Settings());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gpu-control-plane"), std::string::npos);
  EXPECT_NE(r.status().message().find("mounts"), std::string::npos);
}

TEST(EnsureDaemon, Exit244WithoutAMessageNamesTheDriverLibraries) {
  FakeNode node("gpu-worker");
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
  node.handler = [](const ExecOptions& e) -> StatusOr<ExecResult> {
    if (e.cmd[0] == "nvidia-cuda-mps-control") return ExecResult{244, "", ""};
    return ExecResult{0, "", ""};
  };
  auto r = EnsureDaemon(node, Settings());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kEnvironment);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("gpu-worker"), std::string::npos) << m;
  EXPECT_NE(m.find("libnvidia-ml.so.1"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(EnsureServer, AHangingStartServerIsJudgedByTheProcessTable) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [&](const ExecOptions&) -> StatusOr<ExecResult> {
    // The server came up, but the command never answered: killed by the node's timeout.
    node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}, {"64", "34", "Sl", "nvidia-cuda-mps-server"}});
    return ExecResult{137, "", ""};
  };
  auto r = EnsureServer(node, Settings(), std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, 64);
}

TEST(EnsureServer, AHangWithNoServerIsADeadline) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [](const ExecOptions&) -> StatusOr<ExecResult> { return ExecResult{137, "", ""}; };
  auto r = EnsureServer(node, Settings(), std::chrono::seconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
}

TEST(EnsureServer, SendsStartServerForTheConfiguredUid) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [&](const ExecOptions&) -> StatusOr<ExecResult> {
    node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}, {"70", "34", "Sl", "nvidia-cuda-mps-server"}});
    return ExecResult{0, "", ""};
  };
  MpsSettings s = Settings();
  s.server_uid = 1000;
  auto r = EnsureServer(node, s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(node.commands.size(), 1u);
  EXPECT_EQ(node.commands[0].cmd[4], "start_server -uid 1000");
}

TEST(Quit, WaitsForTheDaemonToLeaveTheProcessTable) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [&](const ExecOptions& e) -> StatusOr<ExecResult> {
    EXPECT_EQ(e.cmd[4], "quit");
    node.SetProcesses({{"34", "1", "Z", "[nvidia-cuda-mps] <defunct>"}});
    return ExecResult{0, "", ""};
  };
  EXPECT_TRUE(Quit(node, Settings()).ok());
  EXPECT_EQ(node.commands.size(), 1u);
}

TEST(Quit, ABrokenControlBinaryIsReportedNotWaitedOut) {
  FakeNode node("w-worker");
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [](const ExecOptions&) -> StatusOr<ExecResult> {
    return ExecResult{127, "", "sh: nvidia-cuda-mps-control: not found\n"};
  };
  Status s = Quit(node, Settings(), std::chrono::seconds(30));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot run in node w-worker"), std::string::npos);
  EXPECT_EQ(node.top_calls, 1);  // no polling for 30 s
}

TEST(Quit, NothingToDoWithoutADaemon) {
  FakeNode node;
  node.SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
  EXPECT_TRUE(Quit(node, Settings()).ok());
  EXPECT_TRUE(node.commands.empty());
}

}  // namespace
}  // namespace kmps::mps
