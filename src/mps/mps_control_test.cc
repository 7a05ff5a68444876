#include "mps/mps_control.h"

#include <gtest/gtest.h>

#include "support/fake_node.h"

namespace kmps::mps {
namespace {

using node::Command;
using node::CommandResult;
using testing::FakeNode;

MpsSettings Settings() {
  MpsSettings s;
  s.pipe_directory = "/tmp/nvidia-mps";
  s.log_directory = "/var/log/nvidia-mps";
  return s;
}

TEST(ControlCommandExec, PassesTheCommandAsDataNotAsShellText) {
  std::string evil = "get_server_list'; rm -rf / #";
  Command e = ControlCommandExec(Settings(), evil, std::chrono::seconds(7));
  ASSERT_EQ(e.argv.size(), 6u);
  EXPECT_EQ(e.argv[0], "sh");
  EXPECT_EQ(e.argv[1], "-c");
  EXPECT_EQ(e.argv[2].find(evil), std::string::npos);  // never inside the script
  EXPECT_EQ(e.argv[4], evil);
  EXPECT_EQ(e.argv[5], "7");
  EXPECT_NE(e.argv[2].find("nvidia-cuda-mps-control"), std::string::npos);
  EXPECT_NE(e.argv[2].find("timeout -s KILL"), std::string::npos);
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
  // The pipe directory without its control socket: the command was not sent.
  EXPECT_EQ(ClassifyReply({1, "", "kmps: no control socket\n"}), ReplyKind::kNoSocket);
  auto no_socket = ReplyOf("w", "get_server_list", {1, "", "kmps: no control socket\n"}, std::chrono::seconds(5));
  ASSERT_FALSE(no_socket.ok());
  EXPECT_EQ(no_socket.status().message(), "node w has no MPS control socket in its pipe directory (deleted, or the "
                                          "daemon serves another pipe directory); kindmps-api up restarts the daemon");
  // The H200's refusals (exit 0) of a user who may not change the daemon.
  EXPECT_EQ(ClassifyReply({0, "Not enough privilege to execute quit command\n", ""}), ReplyKind::kRefused);
  EXPECT_EQ(ClassifyReply({0,
                           "Insufficient privileges for UID 1000. Control deamon settings can only be modified by "
                           "the user who started it or by the root user.\n",
                           ""}),
            ReplyKind::kRefused);
}

TEST(SendCommand, ARefusalIsAFailureThatSaysWhy) {
  FakeNode node;
  node.handler = [](const Command&) -> StatusOr<CommandResult> {
    return CommandResult{0, "Not enough privilege to execute quit command\n", ""};
  };
  auto r = SendCommand(node, Settings(), "quit");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailed);
  EXPECT_NE(r.status().message().find("refused 'quit': Not enough privilege"), std::string::npos)
      << r.status().message();
}

TEST(SendCommand, RetriesTransientRefusals) {
  FakeNode node;
  int calls = 0;
  node.handler = [&](const Command&) -> StatusOr<CommandResult> {
    if (++calls < 3) return CommandResult{0, "Cannot send command to MPS control daemon process\n", ""};
    return CommandResult{0, "64\n", ""};
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
  node.handler = [](const Command&) -> StatusOr<CommandResult> {
    return CommandResult{0, "Cannot send command to MPS control daemon process\n", ""};
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
  node.handler = [](const Command&) -> StatusOr<CommandResult> {
    return CommandResult{1, "Cannot find MPS control daemon process\n", ""};
  };
  auto r = SendCommand(node, Settings(), "get_server_list");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("w-worker"), std::string::npos);
}

TEST(SendCommand, UnknownCommandIsAUsageError) {
  FakeNode node;
  node.handler = [](const Command&) -> StatusOr<CommandResult> { return CommandResult{0, "Unknown command \"help\"\n", ""}; };
  auto r = SendCommand(node, Settings(), "help");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(SendCommand, KilledByTheNodesTimeoutIsADeadline) {
  FakeNode node;
  node.handler = [](const Command&) -> StatusOr<CommandResult> { return CommandResult{137, "", ""}; };
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

TEST(DaemonStartError, MissingBinaryNamesTheNodeAndTheMounts) {
  Status s = DaemonStartError(
      "gpu-control-plane", 127,
      "OCI runtime exec failed: exec: \"nvidia-cuda-mps-control\": executable file not found in $PATH");
  EXPECT_NE(s.message().find("gpu-control-plane"), std::string::npos);
  EXPECT_NE(s.message().find("mounts"), std::string::npos);
}

TEST(DaemonStartError, Exit244WithoutAMessageNamesTheDriverLibraries) {
  Status s = DaemonStartError("gpu-worker", 244, "");
  EXPECT_EQ(s.code(), Code::kEnvironment);
  EXPECT_NE(s.message().find("gpu-worker"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("libnvidia-ml.so.1"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  // With a message, 244 is an ordinary failure that shows it.
  Status said = DaemonStartError("gpu-worker", 244, "boom\n");
  EXPECT_EQ(said.code(), Code::kFailed);
  EXPECT_NE(said.message().find("boom"), std::string::npos);
}

TEST(Quit, WaitsForTheDaemonToLeaveTheProcessTable) {
  FakeNode node;
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [&](const Command& e) -> StatusOr<CommandResult> {
    EXPECT_EQ(e.argv[4], "quit");
    node.SetProcesses({{"34", "1", "Z", "[nvidia-cuda-mps] <defunct>"}});
    return CommandResult{0, "", ""};
  };
  EXPECT_TRUE(Quit(node, Settings()).ok());
  EXPECT_EQ(node.commands.size(), 1u);
}

TEST(Quit, ABrokenControlBinaryIsReportedNotWaitedOut) {
  FakeNode node("w-worker");
  node.SetProcesses({{"34", "1", "Ssl", "nvidia-cuda-mps-control -d"}});
  node.handler = [](const Command&) -> StatusOr<CommandResult> {
    return CommandResult{127, "", "sh: nvidia-cuda-mps-control: not found\n"};
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
