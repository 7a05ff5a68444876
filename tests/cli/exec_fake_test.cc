// `kindmps-api exec` as a user runs it, against a scripted daemon (ReplayServer with made-up
// interactions, no Docker needed): the deadline and a broken stream or stdout stop the command in
// the node and say so, stdin with data is refused, and usage errors exit 125.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "replay/replay_util.h"
#include "support/replay_server.h"
#include "support/subprocess.h"

namespace kmps::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr const char* kNode = "kmps-fake-node";
constexpr const char* kExecId = "e000000000000000000000000000000000000000000000000000000000000001";
constexpr const char* kStopId = "5000000000000000000000000000000000000000000000000000000000000002";
constexpr const char* kUsage = "kindmps-api exec NODE -- CMD [ARGS...]";

// The frames of the exec's stream: "out\n" on stdout, then "rest\n".
const std::string kOut = ExecFrame(1, "out\n");
const std::string kRest = ExecFrame(1, "rest\n");

Interaction Create(const std::string& label, const std::string& id) {
  return MakeInteraction(label, "POST", fmt::format("/v1.41/containers/{}/exec", kNode),
                         JsonResponse(201, "Created", fmt::format(R"({{"Id":"{}"}})", id)));
}
Interaction Start(const std::string& label, const std::string& id, const std::string& frames) {
  return MakeInteraction(label, "POST", fmt::format("/v1.41/exec/{}/start", id), ExecStreamResponse(frames));
}
Interaction Inspect(const std::string& label, const std::string& id, bool running, const std::string& exit_code,
                    int pid = 4242) {
  return MakeInteraction(label, "GET", fmt::format("/v1.41/exec/{}/json", id),
                         JsonResponse(200, "OK",
                                      fmt::format(R"({{"ID":"{}","Running":{},"ExitCode":{},"Pid":{}}})", id,
                                                  running ? "true" : "false", exit_code, pid)));
}
// The stop exec (DockerClient::StopTaggedExec) answering "terminated killed".
std::vector<Interaction> StopExec(const std::string& counts) {
  return {Create("stop:create", kStopId), Start("stop:start", kStopId, ExecFrame(1, counts + "\n")),
          Inspect("stop:inspect", kStopId, false, "0")};
}

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

class CliExecFakeTest : public ::testing::Test {
 protected:
  void Serve(std::vector<Interaction> interactions, std::vector<std::pair<std::string, Fault>> faults = {}) {
    Cassette c;
    c.interactions = std::move(interactions);
    server_ = std::make_unique<ReplayServer>(std::move(c));
    for (const auto& [label, fault] : faults) ASSERT_TRUE(server_->InjectFault(label, fault).ok()) << label;
    ASSERT_TRUE(server_->Start().ok());
  }
  // Runs `sh -c "<prefix>kindmps-api <args><suffix>"` on the server's socket, stdin from `input`
  // (an empty one is a pipe closed at once).
  ProcResult Cli(const std::string& args, const std::string& input = "", const std::string& suffix = "",
                 const std::string& prefix = "") {
    std::string host = server_ ? "unix://" + server_->socket_path() : "unix:///tmp/kmps-none/docker.sock";
    auto t0 = std::chrono::steady_clock::now();
    ProcResult r = RunProcess({"/bin/sh", "-c", fmt::format("{}{} {}{}", prefix, KMPS_CLI_PATH, args, suffix)},
                              input, {{"DOCKER_HOST", host}, {"DOCKER_API_VERSION", ""}}, 60s);
    elapsed_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    return r;
  }
  std::vector<ReceivedRequest> Requests() const { return server_->requests(); }
  // The tag the exec ran with (KINDMPS_EXEC_TAG in its create body's Env), "" when none.
  static std::string TagOf(const ReceivedRequest& create) {
    auto body = nlohmann::json::parse(create.body, nullptr, false);
    if (!body.is_object() || !body.contains("Env")) return "";
    for (const auto& e : body["Env"]) {
      std::string s = e.get<std::string>();
      if (s.rfind("KINDMPS_EXEC_TAG=", 0) == 0) return s;
    }
    return "";
  }
  // Asserts the stop exec ran as root with the main exec's tag.
  void ExpectStoppedByTag() {
    auto reqs = Requests();
    std::vector<ReceivedRequest> creates;
    for (const auto& r : reqs) {
      if (r.method == "POST" && r.target.ends_with("/exec")) creates.push_back(r);
    }
    ASSERT_EQ(creates.size(), 2u);
    std::string tag = TagOf(creates[0]);
    EXPECT_TRUE(std::regex_match(tag, std::regex("KINDMPS_EXEC_TAG=[0-9a-f]{16}"))) << creates[0].body;
    auto stop = nlohmann::json::parse(creates[1].body);
    EXPECT_EQ(stop["User"], "0");
    ASSERT_TRUE(stop["Cmd"].is_array());
    EXPECT_EQ(stop["Cmd"].back(), tag);  // the tag is the stop script's argument,
    EXPECT_EQ(TagOf(creates[1]), "");    // not in its own environment
  }

  std::unique_ptr<ReplayServer> server_;
  std::chrono::milliseconds elapsed_{0};
};

// ---- the deadline ----

TEST_F(CliExecFakeTest, StalledStreamHitsTheDeadlineAndTheCommandIsStopped) {
  std::vector<Interaction> it = {Create("exec:create", kExecId), Start("exec:start", kExecId, kOut + kRest),
                                 Inspect("exec:inspect", kExecId, true, "null")};
  for (auto& s : StopExec("2 0")) it.push_back(std::move(s));
  // "out\n" arrives, then nothing until the server stops.
  Serve(std::move(it), {{"exec:start", Fault::StallMidStream(kOut.size())}});
  ProcResult r = Cli(fmt::format("exec --timeout 1 {} -- sh -c 'echo out; sleep 100'", kNode), "", " </dev/null");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, fmt::format("kindmps-api: exec: the 1 s deadline (--timeout) passed; stopped the command in node "
                               "{} (SIGTERM to 2 processes)\n",
                               kNode));
  EXPECT_GE(elapsed_, 1s);
  EXPECT_LT(elapsed_, 6s);
  ExpectStoppedByTag();
  EXPECT_THAT(server_->misses(), IsEmpty());
  EXPECT_THAT(server_->unused(), IsEmpty());
}

TEST_F(CliExecFakeTest, StalledStreamWhoseStopFailsSaysTheCommandMayStillRun) {
  // Nothing answers after the stalled start: the inspect and the stop exec are misses (599).
  Serve({Create("exec:create", kExecId), Start("exec:start", kExecId, kOut + kRest)},
        {{"exec:start", Fault::StallMidStream(kOut.size())}});
  ProcResult r = Cli(fmt::format("exec --timeout 0.5 {} -- sleep 100", kNode), "", " </dev/null");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_THAT(r.err, StartsWith("kindmps-api: exec: the 0.5 s deadline (--timeout) passed; the command may still be "
                                "running in node kmps-fake-node (stopping it failed: "));
  EXPECT_THAT(r.err, HasSubstr(fmt::format("check with kindmps-api ps {} and end it with kindmps-api exec {} -- kill "
                                           "PID\n",
                                           kNode, kNode)));
  EXPECT_EQ(Lines(r.err), 1u);
  EXPECT_LT(elapsed_, 6s);
  EXPECT_THAT(server_->misses(),
              ElementsAre(fmt::format("GET /v1.41/exec/{}/json", kExecId),
                          fmt::format("POST /v1.41/containers/{}/exec", kNode)));
}

TEST_F(CliExecFakeTest, ExitCodeThatNeverComesIsTheDeadlineToo) {
  std::vector<Interaction> it = {Create("exec:create", kExecId), Start("exec:start", kExecId, kOut)};
  // The stream ends, but the exec stays Running: far more replies than polls fit into 0.5 s.
  for (int i = 0; i < 300; ++i) it.push_back(Inspect("exec:poll-" + std::to_string(i), kExecId, true, "null"));
  Serve(std::move(it));
  ProcResult r = Cli(fmt::format("exec --timeout 0.5 {} -- true", kNode), "", " </dev/null");
  EXPECT_EQ(r.exit_code, 125);
  // The post-mortem inspect is one more Running reply; the stop exec is a miss.
  EXPECT_THAT(r.err, StartsWith("kindmps-api: exec: the 0.5 s deadline (--timeout) passed; the command may still be "
                                "running in node kmps-fake-node"));
}

// ---- a broken stream ----

TEST_F(CliExecFakeTest, BrokenStreamAfterTheCommandEndedGivesItsExitCode) {
  Serve({Create("exec:create", kExecId), Start("exec:start", kExecId, kOut + kRest),
         Inspect("exec:inspect", kExecId, false, "3")},
        {{"exec:start", Fault::CloseMidStream(kOut.size() + 8 + 2)}});  // inside "rest\n"
  ProcResult r = Cli(fmt::format("exec {} -- sh -c 'echo out; echo rest; exit 3'", kNode), "", " </dev/null");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.out, "out\nre");
  EXPECT_THAT(r.err, StartsWith(fmt::format("kindmps-api: exec in container {}: start exec e00000000000: exec stream "
                                            "closed mid-frame (3 payload bytes missing); ",
                                            kNode)));
  EXPECT_THAT(r.err, HasSubstr(fmt::format("; the command had ended in node {} with exit code 3 (its output may be "
                                           "incomplete)\n",
                                           kNode)));
  EXPECT_EQ(Lines(r.err), 1u);
  EXPECT_THAT(server_->unused(), IsEmpty());
  EXPECT_EQ(Requests().size(), 4u);  // ping, create, start, inspect: no stop exec
}

TEST_F(CliExecFakeTest, BrokenStreamWhileTheCommandRunsStopsIt) {
  std::vector<Interaction> it = {Create("exec:create", kExecId), Start("exec:start", kExecId, kOut + kRest),
                                 Inspect("exec:inspect", kExecId, true, "null")};
  for (auto& s : StopExec("1 1")) it.push_back(std::move(s));
  Serve(std::move(it), {{"exec:start", Fault::CloseMidStream(kOut.size() + 3)}});  // inside a header
  ProcResult r = Cli(fmt::format("exec {} -- sh -c 'trap \"\" TERM; sleep 100'", kNode), "", " </dev/null");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("exec stream closed inside a frame header"));
  EXPECT_THAT(r.err, HasSubstr(fmt::format("; stopped the command in node {} (SIGTERM to 1 process, SIGKILL to 1 "
                                           "that stayed)\n",
                                           kNode)));
  EXPECT_EQ(Lines(r.err), 1u);
  ExpectStoppedByTag();
  EXPECT_THAT(server_->unused(), IsEmpty());
}

TEST_F(CliExecFakeTest, ClosedStdoutEndsTheStreamAndStopsTheCommand) {
  std::vector<Interaction> it = {Create("exec:create", kExecId),
                                 Start("exec:start", kExecId, ExecFrame(1, "abcd") + kRest + kRest),
                                 Inspect("exec:inspect", kExecId, true, "null")};
  for (auto& s : StopExec("1 0")) it.push_back(std::move(s));
  // "abcd", then a pause in which head has read its 4 bytes and gone, then more output.
  Serve(std::move(it), {{"exec:start", Fault::StallMidStream(12, 500ms)}});
  ProcResult r = Cli(fmt::format("exec {} -- yes", kNode), "", "; echo \"rc=$?\" >&2; } </dev/null | head -c 4", "{ ");
  EXPECT_EQ(r.out, "abcd");
  EXPECT_EQ(r.err, fmt::format("kindmps-api: exec: stdout was closed (broken pipe); stopped the command in node {} "
                               "(SIGTERM to 1 process)\nrc=125\n",
                               kNode));
  ExpectStoppedByTag();
}

// ---- stdin ----

constexpr const char* kStdinRefused =
    "kindmps-api: exec: stdin has data, but exec does not attach stdin and it would be lost: give the command its "
    "input another way (a file in the node, an argument), or redirect stdin from /dev/null\n";

TEST_F(CliExecFakeTest, StdinWithDataIsRefusedBeforeAnythingRuns) {
  Serve({});
  ProcResult piped = Cli(fmt::format("exec {} -- cat", kNode), "data that cat would never see\n");
  EXPECT_EQ(piped.exit_code, 125);
  EXPECT_EQ(piped.err, kStdinRefused);

  std::string file = ::testing::TempDir() + "kmps-exec-stdin.txt";
  std::ofstream(file) << "data\n";
  ProcResult from_file = Cli(fmt::format("exec {} -- cat", kNode), "", " <" + file);
  EXPECT_EQ(from_file.exit_code, 125);
  EXPECT_EQ(from_file.err, kStdinRefused);
  std::remove(file.c_str());

  ProcResult zero = Cli(fmt::format("exec {} -- cat", kNode), "", " </dev/zero");
  EXPECT_EQ(zero.exit_code, 125);
  EXPECT_EQ(zero.err, kStdinRefused);

  EXPECT_THAT(Requests(), IsEmpty());  // not even a ping: no exec was created
}

TEST_F(CliExecFakeTest, StdinFromDevNullAnEmptyPipeOrAnEmptyFileIsFine) {
  std::vector<Interaction> it;
  for (int i = 0; i < 3; ++i) {
    std::string id = std::string(kExecId).substr(0, 63) + std::to_string(i);
    it.push_back(Create(fmt::format("exec{}:create", i), id));
    it.push_back(Start(fmt::format("exec{}:start", i), id, kOut));
    it.push_back(Inspect(fmt::format("exec{}:inspect", i), id, false, std::to_string(i)));
  }
  Serve(std::move(it));
  ProcResult dev_null = Cli(fmt::format("exec {} -- true", kNode), "", " </dev/null");
  EXPECT_EQ(dev_null.exit_code, 0) << dev_null.err;
  EXPECT_EQ(dev_null.out, "out\n");
  ProcResult empty_pipe = Cli(fmt::format("exec {} -- true", kNode));  // a pipe closed at once
  EXPECT_EQ(empty_pipe.exit_code, 1) << empty_pipe.err;
  EXPECT_EQ(empty_pipe.err, "");
  std::string file = ::testing::TempDir() + "kmps-exec-empty.txt";
  std::ofstream{file};
  ProcResult empty_file = Cli(fmt::format("exec {} -- true", kNode), "", " <" + file);
  EXPECT_EQ(empty_file.exit_code, 2) << empty_file.err;
  std::remove(file.c_str());
  EXPECT_THAT(server_->unused(), IsEmpty());
}

// ---- usage errors: 125, one line, nothing sent ----

TEST_F(CliExecFakeTest, UsageErrorsExit125WithOneLine) {
  Serve({});
  struct Case {
    std::string args, err;
  } cases[] = {
      {fmt::format("exec {} --", kNode), fmt::format("exec: no command given for node {}: {}", kNode, kUsage)},
      {fmt::format("exec {}", kNode), fmt::format("exec: no command given for node {}: {}", kNode, kUsage)},
      {"exec", fmt::format("exec: no node given: {}", kUsage)},
      {"exec --", fmt::format("exec: no node given: {}", kUsage)},
      {fmt::format("exec --timeout abc {} -- true", kNode),
       "exec: --timeout: expected seconds, more than 0 and at most 1e+07 (e.g. 30 or 2.5), got \"abc\""},
      {fmt::format("exec --timeout 0 {} -- true", kNode),
       "exec: --timeout: expected seconds, more than 0 and at most 1e+07 (e.g. 30 or 2.5), got \"0\""},
      // What the command-line parser itself refuses: 125 too.
      {"exec -e", "--env: 1 required TEXT missing (see kindmps-api exec --help)"},
  };
  for (const Case& c : cases) {
    ProcResult r = Cli(c.args, "", " </dev/null");
    EXPECT_EQ(r.exit_code, 125) << c.args;
    EXPECT_EQ(r.err, "kindmps-api: " + c.err + "\n") << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
  EXPECT_THAT(Requests(), IsEmpty());
}

// JSON carries only UTF-8: a command of other bytes is refused before any request, not thrown on.
TEST_F(CliExecFakeTest, ACommandThatIsNotUtf8IsRefusedNotThrownOn) {
  Serve({});
  ProcResult r = Cli(fmt::format("exec {} -- \"$(printf '\\377')\"", kNode), "", " </dev/null",
                     "DOCKER_API_VERSION=1.41 ");
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_THAT(r.err, HasSubstr("holds bytes that are not UTF-8, which the Docker API cannot carry"));
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_THAT(Requests(), IsEmpty());
}

// ---- -i and -t: what is asked of the daemon ----

TEST_F(CliExecFakeTest, InteractiveAndTtyAskForStdinATtyAndTheUpgrade) {
  std::string raw = "raw\r\n\x01\x02";  // no frames: with -t the stream is copied as it is
  Serve({Create("i:create", kExecId), Start("i:start", kExecId, kOut), Inspect("i:inspect", kExecId, false, "0"),
         Create("t:create", kStopId), Start("t:start", kStopId, raw), Inspect("t:inspect", kStopId, false, "6")});
  ProcResult i = Cli(fmt::format("exec -i {} -- cat", kNode), "some input\n");
  EXPECT_EQ(i.exit_code, 0) << i.err;
  EXPECT_EQ(i.out, "out\n");
  ProcResult t = Cli(fmt::format("exec -t {} -- sh", kNode), "", " </dev/null");
  EXPECT_EQ(t.exit_code, 6) << t.err;
  EXPECT_EQ(t.out, raw);
  EXPECT_THAT(server_->unused(), IsEmpty());

  std::vector<nlohmann::json> creates, starts;
  for (const auto& r : Requests()) {
    if (r.target.ends_with("/exec")) creates.push_back(nlohmann::json::parse(r.body));
    if (r.target.ends_with("/start")) starts.push_back(nlohmann::json::parse(r.body));
    // Neither stdout nor stdin is a terminal here: no size to send.
    EXPECT_THAT(r.target, ::testing::Not(HasSubstr("/resize"))) << r.target;
  }
  ASSERT_EQ(creates.size(), 2u);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(creates[0]["AttachStdin"], true);
  EXPECT_EQ(creates[0]["Tty"], false);
  EXPECT_EQ(starts[0], nlohmann::json({{"Detach", false}, {"Tty", false}}));
  EXPECT_EQ(creates[1]["AttachStdin"], false);
  EXPECT_EQ(creates[1]["Tty"], true);
  EXPECT_EQ(starts[1], nlohmann::json({{"Detach", false}, {"Tty", true}}));
  for (const auto& c : creates) {
    EXPECT_EQ(c["AttachStdout"], true);
    EXPECT_EQ(c["AttachStderr"], true);
  }
}

TEST_F(CliExecFakeTest, TtyAloneStillRefusesStdinWithDataAndItTakesNoneWithoutATerminal) {
  Serve({});
  ProcResult t = Cli(fmt::format("exec -t {} -- cat", kNode), "data\n");
  EXPECT_EQ(t.exit_code, 125);
  EXPECT_EQ(t.err, kStdinRefused);
  ProcResult it = Cli(fmt::format("exec -it {} -- cat", kNode), "data\n");
  EXPECT_EQ(it.exit_code, 125);
  EXPECT_THAT(it.err, StartsWith("kindmps-api: exec: the input device is not a TTY"));
  EXPECT_EQ(Lines(it.err), 1u);
  EXPECT_THAT(Requests(), IsEmpty());
}

TEST_F(CliExecFakeTest, InteractiveStartRefusedIsOneLineAndNothingToStop) {
  Serve({Create("c", kExecId),
         MakeInteraction("s", "POST", fmt::format("/v1.41/exec/{}/start", kExecId),
                         JsonResponse(409, "Conflict", R"({"message":"Container kmps-fake-node is paused"})"))});
  ProcResult r = Cli(fmt::format("exec -i {} -- cat", kNode), "x\n");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, fmt::format("kindmps-api: exec in container {}: start exec {}: Container kmps-fake-node is "
                               "paused (HTTP 409)\n",
                               kNode, std::string(kExecId).substr(0, 12)));
  EXPECT_THAT(server_->unused(), IsEmpty());  // no inspect, no stop exec
}

TEST_F(CliExecFakeTest, InteractiveBrokenStreamWhileTheCommandRunsStopsIt) {
  std::vector<Interaction> it = {Create("exec:create", kExecId), Start("exec:start", kExecId, kOut + kRest),
                                 Inspect("exec:inspect", kExecId, true, "null")};
  for (auto& i : StopExec("1 0")) it.push_back(std::move(i));
  Serve(std::move(it), {{"exec:start", Fault::CloseMidStream(kOut.size() + 3)}});
  ProcResult r = Cli(fmt::format("exec -i {} -- cat", kNode), "x\n");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_THAT(r.err, HasSubstr("exec stream closed inside a frame header"));
  EXPECT_THAT(r.err, HasSubstr(fmt::format("; stopped the command in node {} (SIGTERM to 1 process)\n", kNode)));
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  ExpectStoppedByTag();
}

// An attached stream the daemon ends while the command runs (a detach, Ctrl-P Ctrl-Q): the exit
// code is waited for a few seconds, not the hour of --timeout, then the command is stopped.
TEST_F(CliExecFakeTest, AnAttachedStreamThatEndsWhileTheCommandRunsIsStoppedSoon) {
  std::vector<Interaction> it = {Create("exec:create", kExecId), Start("exec:start", kExecId, kOut)};
  for (int i = 0; i < 400; ++i) it.push_back(Inspect(fmt::format("exec:inspect{}", i), kExecId, true, "null"));
  for (auto& i : StopExec("1 0")) it.push_back(std::move(i));
  Serve(std::move(it));
  ProcResult r = Cli(fmt::format("exec -i {} -- cat", kNode), "x\n");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_THAT(r.err, HasSubstr("the stream ended while the command still runs (detached?)"));
  EXPECT_THAT(r.err, HasSubstr(fmt::format("; stopped the command in node {} (SIGTERM to 1 process)\n", kNode)));
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  ExpectStoppedByTag();
}

}  // namespace
}  // namespace kmps::testing
