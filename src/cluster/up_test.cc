// Up and Down against fake seams: nodes that answer the setup script and the status probe, a
// host where "kind" makes or removes those nodes, and state kept in memory.
#include "cluster/up.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "cluster/nodes.h"
#include "support/fake_host.h"
#include "support/fake_node.h"

namespace kmps::cluster {
namespace {

using testing::FakeNode;

constexpr const char* kMounts = "shm /dev/shm tmpfs rw,size=8388608k 0 0\n";

// A node whose MPS comes up when the setup script runs, and that answers the status probe.
std::unique_ptr<FakeNode> GpuReadyNode(const std::string& name, const std::string& role) {
  auto n = std::make_unique<FakeNode>(name, role);
  FakeNode* self = n.get();
  self->SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
  self->handler = [self](const node::Command& c) -> StatusOr<node::CommandResult> {
    if (c.argv.size() > 3 && c.argv[3] == "kmps-prepare") {
      self->SetProcesses({{"1", "0", "Ss", "/sbin/init"},
                          {"57", "1", "Ssl", "nvidia-cuda-mps-control -d"},
                          {"64", "57", "Sl", "nvidia-cuda-mps-server"}});
      return node::CommandResult{0, "kmps: daemon started\nkmps: server started\nkmps: socket\nkmps: mounts\n" +
                                        std::string(kMounts), ""};
    }
    if (c.argv.size() > 3 && c.argv[3] == "kmps-mps" && c.argv[4] == "quit") {
      self->SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
      return node::CommandResult{0, "", ""};
    }
    return node::CommandResult{0, std::string(kMounts) + "--kmps-pipe--\n", ""};  // the status probe
  };
  return n;
}

// The seams: `kind create cluster` makes the nodes of the config, `kind delete cluster` removes them.
class FakeWorld : public node::Provider, public node::Commander, public StateStore {
 public:
  explicit FakeWorld(config::ClusterConfig config) : config_(std::move(config)) {}

  StatusOr<node::NodeList> ListNodes(const std::string& cluster) override {
    EXPECT_EQ(cluster, config_.name);
    node::NodeList list;
    for (auto& [name, n] : nodes) {
      auto fork = n->Fork();
      list.push_back(std::move(fork).value());
    }
    return list;
  }
  StatusOr<std::vector<std::string>> ContainerNames(const std::string&) override {
    std::vector<std::string> names;
    for (auto& [name, n] : nodes) names.push_back(name);
    return names;
  }
  StatusOr<node::CommandResult> Run(const node::Command& c) override {
    kind_runs.push_back(c.argv);
    if (c.argv[1] == "delete") nodes.clear();
    if (c.argv[1] == "create") {
      if (create_makes_nothing) return node::CommandResult{0, "", ""};
      if (create_fails) {
        c.on_line("ERROR: failed to create cluster: boom");
        return node::CommandResult{1, "", ""};
      }
      MakeNodes(/*finished=*/true);
    }
    return node::CommandResult{0, "", ""};
  }
  StatusOr<std::string> Save(const config::ClusterConfig& config, const std::string& yaml) override {
    saved[config.name] = yaml;
    return "/state/" + config.name + "/kind-config.yaml";
  }
  StatusOr<config::ClusterConfig> Load(const std::string&) override { return config_; }

  void MakeNodes(bool finished) {
    for (const std::string& name : config::NodeNames(config_)) {
      std::string role = config::NodeRole(config_, name);
      nodes[name] = GpuReadyNode(name, role);
      if (finished && role == "control-plane") nodes[name]->paths = {kKubeadmAdminConf};
    }
  }
  Env env() { return {*this, *this, *this}; }

  config::ClusterConfig config_;
  std::map<std::string, std::unique_ptr<FakeNode>> nodes;
  std::vector<std::vector<std::string>> kind_runs;
  std::map<std::string, std::string> saved;
  bool create_fails = false;
  bool create_makes_nothing = false;  // kind exits 0 but no node container is there
};

class UpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
    ASSERT_TRUE(testing::H100Layout(host_.path()).ok());
    setenv("KUBECONFIG", (host_.path() + "/kubeconfig").c_str(), 1);
    config_ = config::DefaultClusterConfig();
    config_.name = "u";
    config_.workers = 1;
    config_.gpu_nodes = {"worker"};
    config_.driver_root = config_.dev_root = host_.path();
    world_ = std::make_unique<FakeWorld>(config_);
  }
  void TearDown() override { unsetenv("KUBECONFIG"); }

  UpOptions Options() {
    UpOptions o;
    o.config = config_;
    o.kind = "/bin/true";  // found on disk; the fake host runs it
    return o;
  }
  StatusOr<UpResult> RunUp() {
    events_.clear();
    return Up(world_->env(), Options(), [&](const ProgressEvent& e) { events_.push_back(e); });
  }
  std::vector<std::string> DoneTitles() const {
    std::vector<std::string> titles;
    for (const auto& e : events_) {
      if (e.kind == ProgressEvent::Kind::kStepDone) titles.push_back(e.title);
    }
    return titles;
  }

  testing::TempDir host_{"kmps-up"};
  config::ClusterConfig config_;
  std::unique_ptr<FakeWorld> world_;
  std::vector<ProgressEvent> events_;
};

TEST_F(UpTest, AFreshClusterIsCreatedPreparedAndVerified) {
  auto r = RunUp();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->created);
  EXPECT_TRUE(r->status.healthy()) << r->status.AsStatus().message();
  EXPECT_EQ(DoneTitles(), (std::vector<std::string>{"Inspect the host's NVIDIA driver", "Write the kind config",
                                                    "Create the kind cluster", "Start MPS in the GPU nodes", "Verify"}));
  EXPECT_EQ(events_.front().total, 5);
  ASSERT_EQ(world_->kind_runs.size(), 1u);
  EXPECT_EQ(world_->kind_runs[0][1], "create");
  EXPECT_EQ(r->kind_config_path, "/state/u/kind-config.yaml");
  EXPECT_NE(world_->saved["u"].find("kind: Cluster"), std::string::npos);
  // The GPU node: one exec (the setup script) and one top; the other node: as status reads it.
  FakeNode& worker = *world_->nodes["u-worker"];
  ASSERT_EQ(worker.commands.size(), 1u);
  EXPECT_EQ(worker.commands[0].argv[3], "kmps-prepare");
  EXPECT_EQ(worker.top_calls, 1);
  FakeNode& cp = *world_->nodes["u-control-plane"];
  ASSERT_EQ(cp.commands.size(), 1u);
  EXPECT_EQ(cp.commands[0].argv[3], "kmps-status");
  ASSERT_EQ(r->node_notes.size(), 1u);
  EXPECT_NE(r->node_notes[0].find("u-worker"), std::string::npos);
}

TEST_F(UpTest, AFinishedClusterIsKeptAndKindNotRun) {
  world_->MakeNodes(/*finished=*/true);
  auto r = RunUp();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->created);
  EXPECT_TRUE(world_->kind_runs.empty());
  EXPECT_TRUE(r->status.healthy());
}

TEST_F(UpTest, AHalfMadeClusterIsDeletedAndMadeAgain) {
  world_->MakeNodes(/*finished=*/false);
  auto r = RunUp();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->created);
  ASSERT_EQ(world_->kind_runs.size(), 2u);
  EXPECT_EQ(world_->kind_runs[0][1], "delete");
  EXPECT_EQ(world_->kind_runs[1][1], "create");
}

TEST_F(UpTest, AFailedCreateSaysKindsErrorAndStopsThere) {
  world_->create_fails = true;
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("boom"), std::string::npos) << r.status().message();
  EXPECT_NE(DoneTitles().size(), 5u);
  EXPECT_EQ(events_.back().kind, ProgressEvent::Kind::kStepFailed);
  EXPECT_EQ(events_.back().title, "Create the kind cluster");
}

TEST_F(UpTest, AKindThatExitsZeroButMakesNoNodesIsAFailure) {
  world_->create_makes_nothing = true;
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailed);
  EXPECT_EQ(r.status().message(), "kind made no nodes for cluster u");
}

TEST_F(UpTest, AnUnhealthyClusterIsAResultNotAnError) {
  world_->MakeNodes(/*finished=*/true);
  // The status probe of the control plane fails: the cluster is judged unhealthy.
  world_->nodes["u-control-plane"]->handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return node::CommandResult{1, "", "no"};
  };
  auto r = RunUp();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->status.healthy());
  EXPECT_EQ(events_.back().kind, ProgressEvent::Kind::kStepFailed);
  EXPECT_EQ(events_.back().title, "Verify");
}

TEST_F(UpTest, DownQuitsTheDaemonsThenDeletesTheCluster) {
  ASSERT_TRUE(RunUp().ok());
  world_->kind_runs.clear();
  DownOptions o;
  o.config = config_;
  o.kind = "/bin/true";
  std::vector<std::string> done;
  Status s = Down(world_->env(), o, [&](const ProgressEvent& e) {
    if (e.kind == ProgressEvent::Kind::kStepDone) done.push_back(e.detail);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(done, (std::vector<std::string>{"1 node", "u deleted"}));
  ASSERT_EQ(world_->kind_runs.size(), 1u);
  EXPECT_EQ(world_->kind_runs[0][1], "delete");
  EXPECT_TRUE(world_->nodes.empty());
}

TEST_F(UpTest, ADaemonThatWillNotQuitDoesNotKeepTheClusterAlive) {
  ASSERT_TRUE(RunUp().ok());
  world_->kind_runs.clear();
  world_->nodes["u-worker"]->handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return node::CommandResult{127, "", "sh: nvidia-cuda-mps-control: not found\n"};
  };
  DownOptions o;
  o.config = config_;
  o.kind = "/bin/true";
  std::vector<ProgressEvent> events;
  Status s = Down(world_->env(), o, [&](const ProgressEvent& e) { events.push_back(e); });
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1].kind, ProgressEvent::Kind::kStepFailed);  // the quit's failure is reported
  EXPECT_NE(events[1].detail.find("cannot run in node u-worker"), std::string::npos) << events[1].detail;
  EXPECT_EQ(events[2].kind, ProgressEvent::Kind::kLine);
  EXPECT_NE(events[2].detail.find("deleting the cluster anyway"), std::string::npos);
  EXPECT_EQ(events[4].kind, ProgressEvent::Kind::kStepDone);
  EXPECT_EQ(events[4].detail, "u deleted");
  ASSERT_EQ(world_->kind_runs.size(), 1u);
  EXPECT_TRUE(world_->nodes.empty());
  // With --keep-cluster the failure is the result.
  ASSERT_TRUE(RunUp().ok());
  world_->nodes["u-worker"]->handler = [](const node::Command&) -> StatusOr<node::CommandResult> {
    return node::CommandResult{127, "", "sh: nvidia-cuda-mps-control: not found\n"};
  };
  o.keep_cluster = true;
  EXPECT_FALSE(Down(world_->env(), o, nullptr).ok());
}

}  // namespace
}  // namespace kmps::cluster
