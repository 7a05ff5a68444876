// `kindmps-api exec` and `ps`, run as the built binary against the real engine.
#include <algorithm>
#include <chrono>
#include <sstream>

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/docker_test_env.h"
#include "support/subprocess.h"

namespace kmps::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using CliRun = testing::ProcResult;

// Runs the CLI through the shell with `env_prefix` (e.g. "DOCKER_HOST=...") and `args`.
CliRun Cli(const std::string& args, const std::string& env_prefix = "") {
  return testing::RunProcess({"/bin/sh", "-c", fmt::format("{} {} {}", env_prefix, KMPS_CLI_PATH, args)}, "", {},
                             std::chrono::minutes(2));
}

class CliExecTest : public kmps::testing::DockerContainerTest {};

TEST_F(CliExecTest, StreamsAndExitsWithTheCommandsCode) {
  CliRun r = Cli(fmt::format("exec {} -- sh -c 'echo out; echo err >&2; exit 3'", container()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST_F(CliExecTest, EnvUserWorkdir) {
  CliRun r = Cli(fmt::format("exec -e A=1 --env B=2 -u 0 -w /tmp {} -- sh -c 'echo $A$B; pwd'", container()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "12\n/tmp\n");
}

TEST_F(CliExecTest, MissingBinaryIs126) {
  CliRun r = Cli(fmt::format("exec {} -- kmps-no-such-binary", container()));
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_THAT(r.out + r.err, HasSubstr("executable file not found"));
}

TEST_F(CliExecTest, OwnFailuresExit125WithOneLine) {
  std::string absent = kmps::testing::UniqueContainerName("absent");
  CliRun unknown = Cli(fmt::format("exec {} -- true", absent));
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_THAT(unknown.err, StartsWith("kindmps-api: "));
  EXPECT_THAT(unknown.err, HasSubstr(absent));
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1);

  CliRun no_socket = Cli("exec node -- true", "DOCKER_HOST=unix:///tmp/kmps-none/docker.sock");
  EXPECT_EQ(no_socket.exit_code, 125);
  EXPECT_EQ(no_socket.err,
            "kindmps-api: cannot connect to the Docker daemon at /tmp/kmps-none/docker.sock: no such file (is dockerd "
            "running?)\n");

  CliRun refused = Cli(fmt::format("exec {} -- true", container()), "DOCKER_API_VERSION=1.99");
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_THAT(refused.err, HasSubstr("1.99"));

  CliRun scheme = Cli("exec node -- true", "DOCKER_HOST=ssh://me@host");
  EXPECT_EQ(scheme.exit_code, 125);
  EXPECT_THAT(scheme.err, HasSubstr("ssh://me@host"));
}

TEST_F(CliExecTest, StoppedContainerIs125) {
  std::string name = kmps::testing::UniqueContainerName("cli-stopped");
  ASSERT_TRUE(kmps::testing::StartSleeper(client(), name).ok());
  ASSERT_TRUE(client().StopContainer(name, 0).ok());
  CliRun r = Cli(fmt::format("exec {} -- true", name));
  EXPECT_TRUE(client().RemoveContainer(name, true).ok());
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("is not running"));
}

TEST_F(CliExecTest, DeadlineStopsTheCommandAndItsChildrenInTheNode) {
  auto t0 = std::chrono::steady_clock::now();
  CliRun r = Cli(fmt::format("exec --timeout 1 {} -- sh -c 'sleep 3001 & sleep 3002' </dev/null", container()));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, StartsWith(fmt::format(
                         "kindmps-api: exec: the 1 s deadline (--timeout) passed; stopped the command in node {} "
                         "(SIGTERM to ",
                         container())));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_LT(took, std::chrono::seconds(10));
  // Both sleeps are gone (the one in the background too): nothing is left running in the node.
  auto top = client().Top(container(), "-o pid,args");
  ASSERT_TRUE(top.ok()) << top.status().message();
  for (const auto& row : top->processes) {
    EXPECT_THAT(row.back(), ::testing::Not(HasSubstr("sleep 300"))) << row.back();
  }
}

TEST_F(CliExecTest, ATermIgnoringCommandIsKilledWhenStdoutCloses) {
  CliRun r = Cli(fmt::format("exec --timeout 20 {} -- sh -c 'trap \"\" TERM; yes' </dev/null | head -c 4", container()));
  EXPECT_EQ(r.out, "y\ny\n");
  EXPECT_EQ(r.err, fmt::format("kindmps-api: exec: stdout was closed (broken pipe); stopped the command in node {} "
                               "(SIGTERM to 1 process, SIGKILL to 1 that stayed)\n",
                               container()));
  auto top = client().Top(container(), "-o pid,args");
  ASSERT_TRUE(top.ok()) << top.status().message();
  for (const auto& row : top->processes) EXPECT_NE(row.back(), "yes");
}

TEST_F(CliExecTest, TheCommandSeesItsStopTag) {
  CliRun r = Cli(fmt::format("exec {} -- sh -c 'echo $KINDMPS_EXEC_TAG' </dev/null", container()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), 17u) << r.out;  // 16 hex digits, fresh per exec
  CliRun again = Cli(fmt::format("exec {} -- sh -c 'echo $KINDMPS_EXEC_TAG' </dev/null", container()));
  EXPECT_NE(again.out, r.out);
}

TEST_F(CliExecTest, PsPrintsAlignedColumns) {
  CliRun r = Cli(fmt::format("ps {} --ps-args '-o pid,ppid,args'", container()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string head, first;
  std::getline(lines, head);
  std::getline(lines, first);
  EXPECT_THAT(head, StartsWith("PID"));
  EXPECT_THAT(head, HasSubstr("PPID"));
  EXPECT_THAT(first, HasSubstr("sleep 100000"));
  // Columns line up: PPID starts at the same offset in the header and the first row.
  size_t col = head.find("PPID");
  ASSERT_NE(col, std::string::npos);
  ASSERT_GT(first.size(), col);
  EXPECT_NE(first[col], ' ');
  EXPECT_EQ(first[col - 1], ' ');

  CliRun def = Cli(fmt::format("ps {}", container()));
  EXPECT_EQ(def.exit_code, 0) << def.err;
  EXPECT_THAT(def.out, HasSubstr("PID"));
}

TEST_F(CliExecTest, PsFailures) {
  CliRun unknown = Cli(fmt::format("ps {}", kmps::testing::UniqueContainerName("absent")));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, StartsWith("kindmps-api: "));
  CliRun no_socket = Cli("ps node", "DOCKER_HOST=unix:///tmp/kmps-none/docker.sock");
  EXPECT_EQ(no_socket.exit_code, 3);
  EXPECT_THAT(no_socket.err, HasSubstr("/tmp/kmps-none/docker.sock"));
}

}  // namespace
}  // namespace kmps::cli
