// Up and Down against fake seams: nodes that answer the setup script and the status probe, a
// host where "kind" makes or removes those nodes, and state kept in memory.
#include "cluster/up.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <map>

#include "cluster/nodes.h"
#include "common/interrupt.h"
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
      return node::CommandResult{0, "kmps: daemon started\nkmps: threads 100.0\nkmps: server started\nkmps: socket\n"
                                    "kmps: mounts\n" + std::string(kMounts), ""};
    }
    if (c.argv.size() > 3 && c.argv[3] == "kmps-mps" && c.argv[4] == "quit") {
      self->SetProcesses({{"1", "0", "Ss", "/sbin/init"}});
      return node::CommandResult{0, "", ""};
    }
    // The status probe: the daemon answers on its socket once the setup script ran.
    bool up;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      up = self->top.processes.size() > 1;
    }
    return node::CommandResult{0, std::string(kMounts) + "--kmps-pipe--\n" +
                                      (up ? "socket\nthreads 100.0\nserver 64\n" : ""), ""};
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
      if (on_create) on_create();
    }
    return node::CommandResult{0, "", ""};
  }
  StatusOr<std::string> SaveKindConfig(const std::string& cluster, const std::string& yaml) override {
    kind_configs[cluster] = yaml;
    return "/state/" + cluster + "/kind-config.yaml";
  }
  Status Save(const config::ClusterConfig& config) override {
    saved[config.name] = config;
    return Status::Ok();
  }
  StatusOr<std::optional<Saved>> Find(const std::string& cluster) override {
    auto it = saved.find(cluster);
    if (it == saved.end()) return std::optional<Saved>();
    auto yaml = kind_configs.find(cluster);
    return std::optional<Saved>(Saved{it->second, yaml == kind_configs.end() ? "" : yaml->second});
  }
  Status Remove(const std::string& cluster) override {
    saved.erase(cluster);
    kind_configs.erase(cluster);
    ++removed;
    return Status::Ok();
  }

  void MakeNodes(bool finished) {
    for (const std::string& name : config::NodeNames(config_)) {
      std::string role = config::NodeRole(config_, name);
      nodes[name] = GpuReadyNode(name, role);
      // What kindmps-api's kind config mounts into a GPU node.
      if (!foreign && config::IsGpuNode(config_, name, role)) nodes[name]->paths.insert("/usr/bin/nvidia-cuda-mps-control");
      if (finished && role == "control-plane") nodes[name]->paths.insert(kKubeadmAdminConf);
    }
  }
  Env env() { return {*this, *this, *this}; }

  config::ClusterConfig config_;
  std::map<std::string, std::unique_ptr<FakeNode>> nodes;
  std::vector<std::vector<std::string>> kind_runs;
  std::map<std::string, config::ClusterConfig> saved;     // the state: what Save wrote
  std::map<std::string, std::string> kind_configs;        // what SaveKindConfig wrote
  int removed = 0;
  bool create_fails = false;
  bool create_makes_nothing = false;  // kind exits 0 but no node container is there
  std::function<void()> on_create;    // runs once kind made the nodes
  bool foreign = false;               // MakeNodes as kind alone makes them: no driver mounts
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
  EXPECT_EQ(DoneTitles(), (std::vector<std::string>{"Inspect the host's NVIDIA driver",
                                                    "Check the cluster against the request", "Write the kind config",
                                                    "Create the kind cluster", "Start MPS in the GPU nodes", "Verify"}));
  EXPECT_EQ(events_.front().total, 6);
  ASSERT_EQ(world_->kind_runs.size(), 1u);
  EXPECT_EQ(world_->kind_runs[0][1], "create");
  EXPECT_EQ(r->kind_config_path, "/state/u/kind-config.yaml");
  EXPECT_NE(world_->kind_configs["u"].find("kind: Cluster"), std::string::npos);
  ASSERT_EQ(world_->saved.count("u"), 1u);  // the state, once kind made the cluster
  EXPECT_EQ(world_->saved["u"].workers, 1);
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

// `kind create cluster` by hand, or another tool: no state saved, no driver mounts in the nodes.
TEST_F(UpTest, AClusterKindmpsDidNotMakeIsNamedAsSuch) {
  world_->foreign = true;
  world_->MakeNodes(/*finished=*/true);
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "cluster u exists but was not made by kindmps-api: its node u-worker has no NVIDIA driver mounts "
            "(/usr/bin/nvidia-cuda-mps-control is not there); kindmps-api up --recreate deletes it and makes it with "
            "the GPU passed through");
  EXPECT_TRUE(world_->kind_runs.empty());
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
  EXPECT_NE(DoneTitles().size(), 6u);
  EXPECT_EQ(events_.back().kind, ProgressEvent::Kind::kStepFailed);
  EXPECT_EQ(events_.back().title, "Create the kind cluster");
  // A failed first up leaves no state behind.
  EXPECT_TRUE(world_->saved.empty());
  EXPECT_TRUE(world_->kind_configs.empty());
}

TEST_F(UpTest, AKindThatExitsZeroButMakesNoNodesIsAFailure) {
  world_->create_makes_nothing = true;
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailed);
  EXPECT_EQ(r.status().message(), "kind made no nodes for cluster u");
  EXPECT_TRUE(world_->saved.empty());
  EXPECT_TRUE(world_->kind_configs.empty());
}

// ---- up on a cluster that exists: the request against what the cluster was made with ----

TEST_F(UpTest, ARequestForAnotherClusterIsRefusedAndNothingChanges) {
  ASSERT_TRUE(RunUp().ok());
  world_->kind_runs.clear();
  config_.workers = 2;
  config_.mps.pipe_directory = "/run/mps";
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "cluster u exists, and this up asks for another one: workers 1 -> 2; mps.pipeDirectory /tmp/nvidia-mps -> "
            "/run/mps; kindmps-api up --recreate deletes it and creates the one asked for");
  EXPECT_TRUE(world_->kind_runs.empty());
  EXPECT_EQ(world_->saved["u"].workers, 1);  // the state still says what the cluster is
  EXPECT_EQ(world_->saved["u"].mps.pipe_directory, "/tmp/nvidia-mps");
}

TEST_F(UpTest, WhatCanBeAppliedLiveIsAppliedAndSaved) {
  ASSERT_TRUE(RunUp().ok());
  world_->kind_runs.clear();
  config_.shm_size = "16g";
  config_.shm_bytes = 16ull << 30;
  config_.mps.default_active_thread_percentage = 50;
  FakeNode& worker = *world_->nodes["u-worker"];
  worker.handler = [&worker, inner = worker.handler](const node::Command& c) -> StatusOr<node::CommandResult> {
    auto r = inner(c);
    if (r.ok() && c.argv.size() > 3 && c.argv[3] == "kmps-prepare") {
      r->out = "kmps: shm resized\nkmps: daemon running\nkmps: threads 50.0\nkmps: server running\nkmps: socket\n"
               "kmps: mounts\nshm /dev/shm tmpfs rw,size=16777216k 0 0\n";
    }
    return r;
  };
  auto r = RunUp();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->created);
  EXPECT_TRUE(world_->kind_runs.empty());
  bool said = false;
  for (const auto& e : events_) {
    said = said || (e.kind == ProgressEvent::Kind::kStepDone && e.detail.find("shmSize 8g -> 16g") != std::string::npos &&
                    e.detail.find("mps.defaultActiveThreadPercentage (unset) -> 50") != std::string::npos);
  }
  EXPECT_TRUE(said);
  // The setup script got the new size and the setting.
  const node::Command& prepare = worker.commands.back();
  EXPECT_EQ(prepare.argv[4], std::to_string(16ull << 30));
  EXPECT_EQ(world_->saved["u"].shm_size, "16g");
  EXPECT_EQ(world_->saved["u"].mps.default_active_thread_percentage, 50);
}

TEST_F(UpTest, ANodeOfTheSavedShapeThatIsGoneIsReportedNotKept) {
  ASSERT_TRUE(RunUp().ok());
  world_->kind_runs.clear();
  world_->nodes.erase("u-worker");  // docker rm
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailed);
  EXPECT_EQ(r.status().message(),
            "node u-worker of cluster u is missing (removed?); kindmps-api up --recreate makes the cluster again");
  EXPECT_TRUE(world_->kind_runs.empty());
}

TEST_F(UpTest, AnMpsDeviceTheHostHasNotIsRefusedBeforeKindRuns) {
  config_.mps.pinned_device_memory_limits = {{"7", "2G"}};
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("device 7 is no GPU of this host"), std::string::npos) << r.status().message();
  EXPECT_TRUE(world_->kind_runs.empty());
  EXPECT_TRUE(world_->kind_configs.empty());
}

// Ctrl-C while a step runs: the step ends (its calls have deadlines), the next does not start,
// and the one line says what was left.
TEST_F(UpTest, ASignalStopsTheFlowAtTheNextStepSayingWhatIsLeft) {
  InterruptWatch watch;
  world_->on_create = [] { std::raise(SIGINT); };
  auto r = RunUp();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCancelled);
  EXPECT_EQ(r.status().signal(), SIGINT);
  EXPECT_EQ(r.status().message(),
            "interrupted (SIGINT) after step 4/6 (Create the kind cluster): run kindmps-api up again to finish, or "
            "kindmps-api down to remove it");
  EXPECT_EQ(ProcessExitCodeFor(r.status()), 130);
  // The cluster kind made is saved: the next up finds and finishes it.
  EXPECT_EQ(world_->saved.count("u"), 1u);
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
  EXPECT_TRUE(world_->saved.empty());  // nothing left for a state to describe
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
