// Fault injection on recorded exchanges: the project's DockerClient must turn every broken or
// stalled answer into kProtocol or kDeadlineExceeded, never hang, and never report an exit code
// the daemon did not give. Cassettes: busybox-node-exec.json (local engine, keep-alive
// connections) and h100-mps-node.json (real H100 host, Connection: close).
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "docker_api/docker_client.h"
#include "replay/replay_util.h"

namespace kmps::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

constexpr const char* kBusybox = "0000000000010000000000000000000000000000000000000000000000000000";
constexpr const char* kBusyboxExec = "0000000000040000000000000000000000000000000000000000000000000000";
constexpr const char* kH100Node = "workshop-dra-control-plane";

class FaultReplayTest : public ::testing::Test {
 protected:
  void Load(std::string_view cassette, std::initializer_list<std::string_view> prefixes) {
    auto c = LoadCommittedCassette(cassette);
    ASSERT_TRUE(c.ok()) << c.status().message();
    cassette_ = Select(*c, prefixes);
    ASSERT_FALSE(cassette_.interactions.empty());
  }
  void Start(std::chrono::milliseconds call_timeout = 10s) {
    server_ = std::make_unique<ReplayServer>(std::move(cassette_));
    for (const auto& [label, fault] : faults_) ASSERT_TRUE(server_->InjectFault(label, fault).ok()) << label;
    ASSERT_TRUE(server_->Start().ok());
    auto client = ClientFor(*server_, call_timeout);
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(client).value();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_THAT(server_->misses(), IsEmpty());
    }
  }
  static docker::ExecOptions Exit3(std::chrono::milliseconds timeout = 10s) {
    docker::ExecOptions o;
    o.cmd = {"sh", "-c", "echo out; echo err >&2; exit 3"};
    o.timeout = timeout;
    return o;
  }

  Cassette cassette_;
  std::vector<std::pair<std::string, Fault>> faults_;
  std::unique_ptr<ReplayServer> server_;
  std::unique_ptr<docker::DockerClient> client_;
};

// ---- truncation and closed connections: kProtocol ----

TEST_F(FaultReplayTest, ExecStreamCutInsideAFrameHeaderIsAProtocolError) {
  Load("busybox-node-exec.json", {"exit3:", "top"});
  faults_ = {{"exit3:start", Fault::CloseMidStream(3)}};  // 3 of the first header's 8 bytes
  Start();
  auto r = client_->ExecCapture(kBusybox, Exit3());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol) << r.status().message();
  EXPECT_THAT(r.status().message(), HasSubstr(kBusybox));
  // The client is still usable: the next call opens a fresh connection.
  auto top = client_->Top(kBusybox, "-eo pid,ppid,user,args");
  ASSERT_TRUE(top.ok()) << top.status().message();
  EXPECT_EQ(top->processes.size(), 1u);
}

TEST_F(FaultReplayTest, ExecStreamCutInsideAFrameBodyIsAProtocolError) {
  Load("busybox-node-exec.json", {"exit3:"});
  faults_ = {{"exit3:start", Fault::CloseMidStream(8 + 2)}};  // header + 2 of "err\n"
  Start();
  docker::CaptureSink sink;
  auto r = client_->Exec(kBusybox, Exit3(), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol) << r.status().message();
  EXPECT_THAT(r.status().message(), HasSubstr("mid-frame"));
}

TEST_F(FaultReplayTest, H100ExecStreamCutInsideTheSecondFrameIsAProtocolError) {
  Load("h100-mps-node.json", {"exit3:"});
  faults_ = {{"exit3:start", Fault::CloseMidStream(12 + 5)}};  // "out\n" frame + 5 header bytes
  Start();
  docker::CaptureSink sink;
  auto r = client_->Exec(kH100Node, Exit3(), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol) << r.status().message();
  EXPECT_EQ(sink.out, "out\n");  // what arrived before the cut was delivered
}

TEST_F(FaultReplayTest, ConnectionClosedInsideTheExecStreamHeadIsAProtocolError) {
  Load("h100-mps-node.json", {"exit3:"});
  faults_ = {{"exit3:start", Fault::Truncate(40)}};  // inside the header lines
  Start();
  auto r = client_->ExecCapture(kH100Node, Exit3());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol) << r.status().message();
}

TEST_F(FaultReplayTest, ConnectionClosedInsideAJsonBodyIsAProtocolError) {
  Load("busybox-node-exec.json", {"exit3:"});
  faults_ = {{"exit3:create", Fault::CloseMidStream(20)}};  // 20 of 74 Content-Length bytes
  Start();
  auto r = client_->ExecCapture(kBusybox, Exit3());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kProtocol) << r.status().message();
}

TEST_F(FaultReplayTest, ConnectionClosedRightAfterTheHeadIsAProtocolErrorNotAnEmptyResult) {
  // libcurl reports this as a complete 200 with an empty body (docs/fixtures.md).
  Load("h100-mps-node.json", {"top-with-client"});
  faults_ = {{"top-with-client", Fault::CloseMidStream(0)}};
  Start();
  auto top = client_->Top(kH100Node, "-eo pid,ppid,user,args");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), Code::kProtocol) << top.status().message();
}

// ---- stalled daemon: kDeadlineExceeded at the call's deadline ----

TEST_F(FaultReplayTest, DaemonStalledBeforeAnsweringHitsTheCallDeadline) {
  Load("h100-mps-node.json", {"top-with-client"});
  faults_ = {{"top-with-client", Fault::StallBeforeResponse()}};  // until Stop()
  Start(500ms);
  auto top = client_->Top(kH100Node, "-eo pid,ppid,user,args");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), Code::kDeadlineExceeded) << top.status().message();
}

TEST_F(FaultReplayTest, DaemonStalledAfterTheHeadersOfAJsonReplyHitsTheCallDeadline) {
  Load("busybox-node-exec.json", {"top"});
  faults_ = {{"top", Fault::StallAfterHeaders()}};
  Start(500ms);
  auto top = client_->Top(kBusybox, "-eo pid,ppid,user,args");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), Code::kDeadlineExceeded) << top.status().message();
}

TEST_F(FaultReplayTest, ExecStreamStalledAfterTheHeadersHitsTheExecDeadline) {
  Load("h100-mps-node.json", {"exit3:"});
  faults_ = {{"exit3:start", Fault::StallAfterHeaders()}};
  Start();  // the call timeout stays long: the exec's own timeout must end it
  auto r = client_->ExecCapture(kH100Node, Exit3(500ms));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().message();
}

TEST_F(FaultReplayTest, ExecInspectStalledHitsTheExecDeadline) {
  Load("busybox-node-exec.json", {"exit3:"});
  faults_ = {{"exit3:inspect", Fault::StallBeforeResponse()}};
  Start();
  auto r = client_->ExecCapture(kBusybox, Exit3(500ms));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().message();
}

// ---- an exit code the daemon never gave is never reported ----

// The busybox exit3 create and start as recorded, then `inspects` synthetic exec inspect replies.
Cassette WithInspects(const Cassette& recorded, const std::vector<std::string>& inspects) {
  Cassette c = Select(recorded, {"exit3:create", "exit3:start"});
  for (size_t i = 0; i < inspects.size(); ++i) {
    c.interactions.push_back(MakeInteraction("inspect-" + std::to_string(i), "GET",
                                             std::string("/v1.41/exec/") + kBusyboxExec + "/json",
                                             JsonResponse(200, "OK", inspects[i])));
  }
  return c;
}

std::string InspectBody(bool running, std::string_view exit_code) {
  return std::string("{\"ID\":\"") + kBusyboxExec + "\",\"Running\":" + (running ? "true" : "false") +
         ",\"ExitCode\":" + std::string(exit_code) + ",\"Pid\":26469}";
}

TEST_F(FaultReplayTest, ExitCodeThatStaysNullIsADeadlineNeverZero) {
  auto c = LoadCommittedCassette("busybox-node-exec.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  // Far more null replies than polls fit into 500 ms (1 ms backoff doubling up to 50 ms: ~15).
  cassette_ = WithInspects(*c, std::vector<std::string>(400, InspectBody(false, "null")));
  Start();
  auto r = client_->ExecCapture(kBusybox, Exit3(500ms));
  ASSERT_FALSE(r.ok()) << "reported exit code " << r->exit_code;
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().message();
  // The message depends on where the deadline falls: between two polls ("the exit code was still
  // unknown when the 500 ms deadline passed"), before an inspect ("deadline already passed"), or
  // during one ("no complete answer within N ms"); the code is the same.
}

TEST_F(FaultReplayTest, ExitCodeIsTakenOnlyOnceNotRunningAndSet) {
  auto c = LoadCommittedCassette("busybox-node-exec.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  cassette_ = WithInspects(*c, {InspectBody(true, "null"), InspectBody(true, "0"), InspectBody(false, "null"),
                                InspectBody(false, "7")});
  Start();
  auto r = client_->ExecCapture(kBusybox, Exit3());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_THAT(server_->unused(), IsEmpty());  // it polled through every reply
}

}  // namespace
}  // namespace kmps::testing
