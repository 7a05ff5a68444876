// `kindmps-api exec` and `ps`, run as the built binary against the real engine.
#include <algorithm>
#include <chrono>
#include <sstream>

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/docker_test_env.h"
#include "support/subprocess.h"

namespace kmps::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using CliRun = testing::ProcResult;

// Runs the CLI through the shell with `env_prefix` (e.g. "DOCKER_HOST=...") and `args`.
// `input` is the CLI's stdin (a pipe closed after it).
CliRun Cli(const std::string& args, const std::string& env_prefix = "", const std::string& input = "") {
  return testing::RunProcess({"/bin/sh", "-c", fmt::format("{} {} {}", env_prefix, KMPS_CLI_PATH, args)}, input, {},
                             std::chrono::minutes(2));
}

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
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

// ---- -i: stdin through the hijacked connection ----

TEST_F(CliExecTest, InteractivePassesStdinAndItsEnd) {
  CliRun cat = Cli(fmt::format("exec -i {} -- cat", container()), "", "hello\n");
  EXPECT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, "hello\n");
  EXPECT_EQ(cat.err, "");
  // wc prints its count only once it read the end of its input: the half-close reached it.
  CliRun wc = Cli(fmt::format("exec -i {} -- wc -l", container()), "", "a\nb\n");
  EXPECT_EQ(wc.exit_code, 0) << wc.err;
  EXPECT_EQ(Trimmed(wc.out), "2");
  CliRun empty = Cli(fmt::format("exec --interactive {} -- wc -c", container()), "", "");
  EXPECT_EQ(Trimmed(empty.out), "0");
  CliRun code = Cli(fmt::format("exec -i {} -- sh -c 'read l; echo \"got $l\" >&2; exit 7'", container()), "", "x\n");
  EXPECT_EQ(code.exit_code, 7);
  EXPECT_EQ(code.err, "got x\n");
}

TEST_F(CliExecTest, InteractiveCarriesLargeInputAndEndsWhenTheCommandLeavesEarly) {
  CliRun big = Cli(fmt::format("exec -i {} -- wc -c", container()), "head -c 8000000 /dev/zero | ");
  EXPECT_EQ(big.exit_code, 0) << big.err;
  EXPECT_EQ(Trimmed(big.out), "8000000");
  // `true` reads nothing: the exec ends when it does, not when 8 MB were sent.
  auto t0 = std::chrono::steady_clock::now();
  CliRun early = Cli(fmt::format("exec -i {} -- sh -c 'exit 4'", container()), "head -c 8000000 /dev/zero | ");
  EXPECT_EQ(early.exit_code, 4) << early.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

TEST_F(CliExecTest, InteractiveDeadlineStopsTheCommand) {
  // stdin stays open (sleep holds the pipe) past the 1 s deadline, so cat does not end; once the
  // connection is dropped cat sees its end, but the sleep after it is still there to be stopped.
  CliRun r = Cli(fmt::format("exec -i --timeout 1 {} -- sh -c 'cat; sleep 3003'", container()), "sleep 4 | ");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, StartsWith(fmt::format(
                         "kindmps-api: exec: the 1 s deadline (--timeout) passed; stopped the command in node {}",
                         container())));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  auto top = client().Top(container(), "-o pid,args");
  ASSERT_TRUE(top.ok()) << top.status().message();
  for (const auto& row : top->processes) EXPECT_THAT(row.back(), ::testing::Not(HasSubstr("sleep 3003")));
}

// ---- -t: a pseudo-terminal ----

TEST_F(CliExecTest, TtyStreamIsTheTerminalsRawBytes) {
  CliRun r = Cli(fmt::format("exec -t {} -- sh -c 'echo out; echo err >&2; exit 2' </dev/null", container()));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "out\r\nerr\r\n");  // the remote terminal's line ends; stderr merged into it
  EXPECT_EQ(r.err, "");
}

TEST_F(CliExecTest, InteractiveTtyNeedsATerminalOnStdin) {
  for (const char* flags : {"-it", "-ti", "-i -t", "--interactive --tty"}) {
    CliRun r = Cli(fmt::format("exec {} {} -- touch /tmp/kmps-it-ran", flags, container()), "", "input\n");
    EXPECT_EQ(r.exit_code, 125) << flags;
    EXPECT_EQ(r.err,
              "kindmps-api: exec: the input device is not a TTY (-i -t need a terminal on stdin; without -t the "
              "command reads stdin as it comes)\n")
        << flags;
  }
  auto ran = client().PathExists(container(), "/tmp/kmps-it-ran");
  ASSERT_TRUE(ran.ok()) << ran.status().message();
  EXPECT_FALSE(*ran);
}

bool HaveScript() { return testing::RunProcess({"/bin/sh", "-c", "command -v script"}).exit_code == 0; }

// `script` (util-linux) runs kindmps-api on a pseudo-terminal of its own, whose input is the pipe.
CliRun UnderScript(const std::string& inner, const std::string& input) {
  return testing::RunProcess({"script", "-qec", inner, "/dev/null"}, input, {}, std::chrono::minutes(1));
}

TEST_F(CliExecTest, InteractiveTtyRunsAShellFromTypedInput) {
  if (!HaveScript()) GTEST_SKIP() << "no script (util-linux) to give the test a pty";
  CliRun r = UnderScript(fmt::format("{} exec -it {} -- sh", KMPS_CLI_PATH, container()),
                         "echo typed-$((6*7)); exit 3\n");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("typed-42\r\n"));  // computed by the node's shell, not echoed
}

TEST_F(CliExecTest, InteractiveTtyGetsTheTerminalsSizeAndLeavesItCooked) {
  if (!HaveScript()) GTEST_SKIP() << "no script (util-linux) to give the test a pty";
  // After the exec, stty -a shows what kindmps-api left on the terminal: icanon and echo again.
  CliRun r = UnderScript(fmt::format("stty cols 123 rows 45; {} exec -it {} -- sh -c 'sleep 0.5; stty size'; "
                                     "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo",
                                     KMPS_CLI_PATH, container()),
                         "");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("45 123\r\n"));
  EXPECT_THAT(r.out, HasSubstr("icanon"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("-icanon")));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("-echo")));
}

TEST_F(CliExecTest, InteractiveTtyFollowsAResize) {
  if (!HaveScript()) GTEST_SKIP() << "no script (util-linux) to give the test a pty";
  // The terminal is resized while the command sleeps: SIGWINCH, then a second resize call.
  CliRun r = UnderScript(fmt::format("stty cols 100 rows 30; exec 3<&0; (sleep 0.7; stty cols 77 rows 22 <&3) & "
                                     "{} exec -it {} -- sh -c 'sleep 0.3; stty size; sleep 1.5; stty size'",
                                     KMPS_CLI_PATH, container()),
                         "");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("30 100\r\n22 77\r\n"));
}

// ---- ps --json ----

TEST_F(CliExecTest, PsJsonIsAProcessList) {
  CliRun r = Cli(fmt::format("ps {} --json --ps-args '-o pid,ppid,args'", container()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CliRun tool = testing::RunProcess({"python3", "-m", "json.tool"}, r.out);
  EXPECT_EQ(tool.exit_code, 0) << tool.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["apiVersion"], "kindmps.dev/v1alpha1");
  EXPECT_EQ(doc["kind"], "ProcessList");
  EXPECT_EQ(doc["node"], container());
  EXPECT_EQ(doc["psArgs"], "-o pid,ppid,args");
  EXPECT_EQ(doc["titles"], nlohmann::json::array({"PID", "PPID", "COMMAND"}));
  ASSERT_TRUE(doc["processes"].is_array());
  ASSERT_FALSE(doc["processes"].empty());
  bool sleeper = false;
  for (const auto& p : doc["processes"]) {
    ASSERT_TRUE(p.is_object());
    EXPECT_TRUE(p.contains("PID") && p.contains("PPID") && p.contains("COMMAND")) << p.dump();
    sleeper = sleeper || p["COMMAND"] == "sleep 100000";
  }
  EXPECT_TRUE(sleeper) << r.out;

  CliRun def = Cli(fmt::format("ps --json {}", container()));
  ASSERT_EQ(def.exit_code, 0) << def.err;
  auto d = nlohmann::json::parse(def.out);
  EXPECT_EQ(d["psArgs"], "");
  EXPECT_EQ(d["titles"].size(), d["processes"][0].size());

  CliRun unknown = Cli(fmt::format("ps --json {}", kmps::testing::UniqueContainerName("absent")));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "");
}

}  // namespace
}  // namespace kmps::cli
