// The project's DockerClient (libcurl over a Unix socket) and mps::FindMpsProcesses against the
// exchanges recorded on a real H100 host with real MPS (fixtures/cassettes/h100-mps-node.json).
#include <cstdlib>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "docker_api/docker_client.h"
#include "mps/mps_processes.h"
#include "replay/replay_util.h"

namespace kmps::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kNode = "workshop-dra-control-plane";

class H100ReplayTest : public ::testing::Test {
 protected:
  // Serves the H100 interactions whose labels start with `prefixes`; a fresh client on it.
  void Serve(std::initializer_list<std::string_view> prefixes) {
    auto c = LoadCommittedCassette("h100-mps-node.json");
    ASSERT_TRUE(c.ok()) << c.status().message();
    Cassette picked = Select(*c, prefixes);
    ASSERT_FALSE(picked.interactions.empty());
    server_ = std::make_unique<ReplayServer>(std::move(picked));
    ASSERT_TRUE(server_->Start().ok());
    auto client = ClientFor(*server_);
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(client).value();
  }
  void TearDown() override {
    if (server_ == nullptr) return;
    EXPECT_THAT(server_->misses(), IsEmpty());
    EXPECT_THAT(server_->unused(), IsEmpty());
    if (std::getenv("DOCKER_API_VERSION") == nullptr) {
      // The version was negotiated from the server's synthetic ping, before anything else.
      auto reqs = server_->requests();
      ASSERT_FALSE(reqs.empty());
      EXPECT_EQ(reqs[0].target, "/_ping");
      EXPECT_EQ(reqs[0].label, "(synthetic ping)");
      auto v = client_->ApiVersion();
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(*v, "1.41");
    }
  }
  // The Cmd of the exec create the client sent (the server does not compare bodies).
  nlohmann::json SentCmd() const {
    for (const auto& r : server_->requests()) {
      if (r.method == "POST" && r.target.ends_with("/exec")) return nlohmann::json::parse(r.body).at("Cmd");
    }
    return nullptr;
  }
  std::unique_ptr<ReplayServer> server_;
  std::unique_ptr<docker::DockerClient> client_;
};

// Row of `top` whose column `col` equals `value`, or nullptr.
const std::vector<std::string>* Row(const docker::TopResult& t, std::string_view col, std::string_view value) {
  int c = t.Column(col);
  for (const auto& row : t.processes) {
    if (c >= 0 && c < static_cast<int>(row.size()) && row[c] == value) return &row;
  }
  return nullptr;
}

TEST_F(H100ReplayTest, TopShowsTheMpsServerAsChildOfTheControlDaemon) {
  Serve({"top-with-client"});
  auto top = client_->Top(kNode, "-eo pid,ppid,user,args");
  ASSERT_TRUE(top.ok()) << top.status().message();
  EXPECT_THAT(top->titles, ElementsAre("PID", "PPID", "USER", "COMMAND"));
  int pid = top->Column("PID"), ppid = top->Column("PPID"), cmd = top->Column("COMMAND");
  const auto* server = Row(*top, "COMMAND", "nvidia-cuda-mps-server");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ((*server)[pid], "1250");
  EXPECT_EQ((*server)[ppid], "1171");
  const auto* control = Row(*top, "PID", "1171");
  ASSERT_NE(control, nullptr);
  EXPECT_EQ((*control)[cmd], "nvidia-cuda-mps-control -d");

  mps::MpsProcesses found = mps::FindMpsProcesses(*top);
  ASSERT_TRUE(found.control.has_value());
  EXPECT_EQ(found.control->pid, 1171);
  ASSERT_EQ(found.servers.size(), 1u);
  EXPECT_EQ(found.servers[0].pid, 1250);
  EXPECT_EQ(found.servers[0].ppid, 1171);
}

TEST_F(H100ReplayTest, TopAuxFollowsTheDaemonThroughStartClientAndQuit) {
  // Three recorded `top?ps_args=aux` with the same target: served in recorded order.
  Serve({"top-after-"});
  auto after_d = client_->Top(kNode, "aux");
  auto after_client = client_->Top(kNode, "aux");
  auto after_quit = client_->Top(kNode, "aux");
  ASSERT_TRUE(after_d.ok() && after_client.ok() && after_quit.ok());

  mps::MpsProcesses d = mps::FindMpsProcesses(*after_d);
  ASSERT_TRUE(d.control.has_value());
  EXPECT_EQ(d.control->pid, 1171);
  EXPECT_THAT(d.servers, IsEmpty());  // the server starts with the first client

  mps::MpsProcesses c = mps::FindMpsProcesses(*after_client);
  ASSERT_TRUE(c.control.has_value());
  EXPECT_EQ(c.control->pid, 1171);
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].pid, 1250);
  EXPECT_EQ(c.servers[0].ppid, 0);  // aux has no PPID column

  mps::MpsProcesses q = mps::FindMpsProcesses(*after_quit);
  EXPECT_FALSE(q.control.has_value());
  EXPECT_THAT(q.servers, IsEmpty());
}

TEST_F(H100ReplayTest, ExecSeparatesStdoutStderrAndExitCode) {
  Serve({"exit3:"});
  docker::ExecOptions o;
  o.cmd = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto r = client_->ExecCapture(kNode, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(SentCmd(), nlohmann::json(o.cmd));
}

TEST_F(H100ReplayTest, ExecIntoASinkGivesTheSameStreams) {
  Serve({"exit3:"});
  docker::ExecOptions o;
  o.cmd = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  docker::CaptureSink sink;
  auto code = client_->Exec(kNode, o, sink);
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(sink.out, "out\n");
  EXPECT_EQ(sink.err, "err\n");
}

TEST_F(H100ReplayTest, MissingBinaryGives126AndTheOciMessage) {
  Serve({"missing:"});
  docker::ExecOptions o;
  o.cmd = {"no-such-binary"};
  auto r = client_->ExecCapture(kNode, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 126);
  EXPECT_THAT(r->out + r->err, HasSubstr("OCI runtime exec failed"));
  EXPECT_THAT(r->out + r->err, HasSubstr("exec: \"no-such-binary\": executable file not found in $PATH"));
  EXPECT_EQ(SentCmd(), nlohmann::json(o.cmd));
}

TEST_F(H100ReplayTest, TopOnAnUnknownContainerIsNotFoundWithTheDaemonsMessage) {
  Serve({"top-404"});
  auto top = client_->Top("nope", "");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), Code::kNotFound);
  EXPECT_THAT(top.status().message(), HasSubstr("No such container: nope"));
  EXPECT_THAT(top.status().message(), HasSubstr("nope"));
}

TEST_F(H100ReplayTest, DfShowsAnEightGigabyteShm) {
  Serve({"df:"});
  docker::ExecOptions o;
  o.cmd = {"df", "-h", "/dev/shm"};
  auto r = client_->ExecCapture(kNode, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_THAT(r->out, ContainsRegex("shm +8\\.0G .*/dev/shm"));
  EXPECT_EQ(r->err, "");
}

}  // namespace
}  // namespace kmps::testing
