#include "cluster/up.h"

#include <chrono>

#include <fmt/core.h>

#include "cluster/shm.h"
#include "cluster/state.h"
#include "kind/host_inspect.h"
#include "kind/host_paths.h"
#include "kind/kind_failure.h"
#include "kind/kind_render.h"
#include "kind/kind_runner.h"
#include "kind/kubeconfig.h"
#include "mps/mps_control.h"

namespace kmps::cluster {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Reports a step's start and end around `body`.
class Steps {
 public:
  Steps(const ProgressFn& fn, int total) : fn_(fn), total_(total) {}
  template <typename Body>
  Status Run(const std::string& title, Body body) {
    ++step_;
    Emit({ProgressEvent::Kind::kStepStarted, step_, total_, title, "", 0});
    auto t0 = Clock::now();
    std::string detail;
    Status s = body(detail);
    Emit({s.ok() ? ProgressEvent::Kind::kStepDone : ProgressEvent::Kind::kStepFailed, step_, total_, title,
          s.ok() ? detail : s.message(), MsSince(t0)});
    return s;
  }
  void Line(const std::string& text) { Emit({ProgressEvent::Kind::kLine, 0, total_, "", text, 0}); }

 private:
  void Emit(const ProgressEvent& e) {
    if (fn_) fn_(e);
  }
  const ProgressFn& fn_;
  int total_;
  int step_ = 0;
};

// Brings one GPU node to the wanted state; idempotent.
Status PrepareNode(Node& node, const kind::ClusterConfig& config, std::string* note) {
  KMPS_ASSIGN_OR_RETURN(uint64_t shm, EnsureShmSize(node, config.shm_bytes));
  KMPS_ASSIGN_OR_RETURN(mps::EnsureResult daemon, mps::EnsureDaemon(node, config.mps));
  KMPS_RETURN_IF_ERROR(mps::ApplySettings(node, config.mps));
  std::string server = "no server requested";
  if (config.mps.start_server) {
    KMPS_ASSIGN_OR_RETURN(int server_pid, mps::EnsureServer(node, config.mps));
    server = fmt::format("server pid {}", server_pid);
  }
  *note = fmt::format("{}: /dev/shm {} MiB, control daemon pid {} ({}), {}", node.name(), shm >> 20,
                      daemon.control_pid, daemon.started ? "started" : "already running", server);
  return Status::Ok();
}

// Runs `kind <verb> cluster --name <name> ...` (argv) and every process it starts; a non-zero
// exit is kFailed with kind's informative line, a forwarded signal that stopped it an
// interruption "interrupted (SIGINT): kind <verb> cluster --name <name> was stopped[; <next>]".
Status RunKind(const std::vector<std::string>& argv, std::chrono::seconds timeout, Steps& steps,
               std::string_view next = {}) {
  kind::KindOutput output;  // the whole stream: kind's ERROR line may come long before the end
  auto on_line = [&](std::string_view line) {
    output.Add(line);
    steps.Line(fmt::format("kind: {}", line));
  };
  std::string what = fmt::format("kind {} cluster --name {}", argv[1], argv[4]);
  auto r = kind::RunProcess(argv, Deadline::In(timeout), on_line);
  if (!r.ok() && r.status().code() == Code::kCancelled) {
    int signo = r.status().signal();
    return Status::Interrupted(signo, fmt::format("interrupted ({}): {} was stopped{}{}", kind::SignalName(signo), what,
                                                  next.empty() ? "" : "; ", next));
  }
  KMPS_RETURN_IF_ERROR(r.status());
  if (r->exit_code == 0) return Status::Ok();
  return Failed(kind::DescribeKindFailure(what, r->exit_code, output));
}

constexpr std::string_view kFinishOrRemove = "run kindmps-api up again to finish, or kindmps-api down to remove it";

// The interruption `s` with what to do next.
Status Then(const Status& s, std::string_view next) {
  return Status::Interrupted(s.signal(), fmt::format("{}; {}", s.message(), next));
}

// After `kind create cluster` failed or was stopped (`created`), and every process it started is
// gone: kind removes the nodes of a failed create, but not one that a `docker run` of its makes
// after it exited, and none when a signal stops it. Whatever is still labelled for the cluster is
// deleted (kind delete cluster, once) so that the next up starts clean. Returns the create's
// failure, worded for what is left.
Status RemoveWhatCreateLeft(docker::DockerClient& client, const UpOptions& options, const std::string& kind,
                            Steps& steps, const Status& created) {
  const std::string& name = options.config.name;
  bool interrupted = created.code() == Code::kCancelled;
  auto left = ClusterContainerNames(client, name);
  if (!left.ok()) {
    std::string unknown = fmt::format("whether it left node containers is unknown ({})", left.status().message());
    if (interrupted) return Then(created, fmt::format("{}; {}", unknown, kFinishOrRemove));
    return Status(created.code(), fmt::format("{}; {}: kindmps-api down removes them", created.message(), unknown));
  }
  if (left->empty()) {
    return interrupted ? Then(created, "it left no node container; run kindmps-api up again") : created;
  }
  std::string names;
  for (const auto& n : *left) names += (names.empty() ? "" : ", ") + n;
  // kind delete would fail on a kubeconfig lock too: then the containers are left, and said so.
  if (Status locked = kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete); !locked.ok()) {
    std::string why = fmt::format("it left {} node container{} ({}), kept: {}", left->size(),
                                  left->size() == 1 ? "" : "s", names, locked.message());
    if (interrupted) return Then(created, fmt::format("{}; {}", why, kFinishOrRemove));
    return Status(created.code(), fmt::format("{}; {}; then run kindmps-api down", created.message(), why));
  }
  steps.Line(fmt::format("kind create cluster --name {} {} and left {} node container{} ({}): deleting {} with kind "
                         "delete cluster --name {}",
                         name, interrupted ? "was stopped" : "failed", left->size(), left->size() == 1 ? "" : "s",
                         names, left->size() == 1 ? "it" : "them", name));
  Status deleted = RunKind(kind::DeleteClusterArgs(kind, name), options.kind_timeout, steps, kFinishOrRemove);
  if (deleted.ok()) {
    return interrupted ? Then(created, "the node containers it left were deleted; run kindmps-api up again") : created;
  }
  if (deleted.code() == Code::kCancelled) return deleted;
  if (interrupted) {
    return Then(created, fmt::format("deleting what it left failed: {}; {}", deleted.message(), kFinishOrRemove));
  }
  return Status(created.code(),
                fmt::format("{}; deleting the node containers it left failed too: {}; run kindmps-api down",
                            created.message(), deleted.message()));
}

// The "Create the kind cluster" step: keeps a cluster kind finished, else (re)creates it. kind is
// only run once it can lock the kubeconfig.
Status EnsureCluster(docker::DockerClient& client, const UpOptions& options, Steps& steps, UpResult& result,
                     std::string& detail) {
  const kind::ClusterConfig& config = options.config;
  KMPS_ASSIGN_OR_RETURN(std::vector<NodeRef> existing, ListNodes(client, config));
  if (!existing.empty() && !options.recreate) {
    KMPS_ASSIGN_OR_RETURN(bool finished, KindFinished(client, existing));
    if (finished) {
      detail = fmt::format("cluster {} exists ({} nodes); kept", config.name, existing.size());
      return Status::Ok();
    }
    steps.Line(fmt::format("cluster \"{}\" was left half-made (kind did not finish): deleting and creating it again",
                           config.name));
  }
  KMPS_ASSIGN_OR_RETURN(std::string kind, kind::FindExecutable(options.kind));
  if (!existing.empty()) KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete));
  KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kCreate));
  auto kind_t0 = Clock::now();
  if (!existing.empty()) {
    KMPS_RETURN_IF_ERROR(
        RunKind(kind::DeleteClusterArgs(kind, config.name), options.kind_timeout, steps, kFinishOrRemove));
  }
  Status created = RunKind(kind::CreateClusterArgs(kind, config.name, result.kind_config_path, config.image),
                           options.kind_timeout, steps);
  result.kind_ms = MsSince(kind_t0);
  if (!created.ok()) return RemoveWhatCreateLeft(client, options, kind, steps, created);
  result.created = true;
  detail = fmt::format("created in {:.1f} s", result.kind_ms / 1000);
  return Status::Ok();
}

}  // namespace

nlohmann::json UpResult::ToJson() const {
  nlohmann::json j = status.ToJson();
  j["kindConfig"] = kind_config_path;
  j["created"] = created;
  j["timings"] = {{"totalMs", total_ms}, {"kindMs", kind_ms}, {"oursMs", total_ms - kind_ms}};
  return j;
}

StatusOr<UpResult> Up(docker::DockerClient& client, const UpOptions& options, const ProgressFn& progress) {
  const kind::ClusterConfig& config = options.config;
  UpResult result;
  auto t0 = Clock::now();
  Steps steps(progress, 5);

  kind::HostInventory inventory;
  KMPS_RETURN_IF_ERROR(steps.Run("Inspect the host's NVIDIA driver", [&](std::string& detail) -> Status {
    inventory = kind::InspectHost({config.driver_root, config.dev_root});
    KMPS_RETURN_IF_ERROR(kind::RequireComplete(inventory));
    detail = fmt::format("{} libraries, {} binaries, {} devices{}", inventory.libraries.size(),
                         inventory.binaries.size(), inventory.devices.size(),
                         inventory.driver_version.empty() ? "" : ", driver " + inventory.driver_version);
    return Status::Ok();
  }));

  KMPS_RETURN_IF_ERROR(steps.Run("Write the kind config", [&](std::string& detail) -> Status {
    KMPS_RETURN_IF_ERROR(kind::CheckKindConfigHostPaths(config, inventory));
    KMPS_ASSIGN_OR_RETURN(std::string yaml, kind::RenderKindConfig(config, inventory));
    KMPS_ASSIGN_OR_RETURN(result.kind_config_path, SaveState(config, yaml));
    detail = result.kind_config_path;
    return Status::Ok();
  }));

  KMPS_RETURN_IF_ERROR(steps.Run("Create the kind cluster", [&](std::string& detail) -> Status {
    return EnsureCluster(client, options, steps, result, detail);
  }));

  KMPS_RETURN_IF_ERROR(steps.Run("Start MPS in the GPU nodes", [&](std::string& detail) -> Status {
    KMPS_ASSIGN_OR_RETURN(std::vector<NodeRef> nodes, ListNodes(client, config));
    std::vector<NodeRef> gpu;
    for (const auto& n : nodes) {
      if (!n.gpu) continue;
      if (!n.running) return Failed(fmt::format("node {} is not running (docker start it, or up --recreate)", n.name));
      gpu.push_back(n);
    }
    if (gpu.empty()) return Failed(fmt::format("cluster {} has no GPU node (see gpuNodes)", config.name));
    std::vector<std::string> notes(gpu.size());
    auto statuses = ForEachParallel(client, gpu.size(), [&](docker::DockerClient& c, size_t i) {
      DockerNode node(c, gpu[i].name);
      return PrepareNode(node, config, &notes[i]);
    });
    for (size_t i = 0; i < gpu.size(); ++i) {
      if (!statuses[i].ok()) return statuses[i];
      steps.Line(notes[i]);
    }
    result.node_notes = notes;
    detail = fmt::format("{} node{}", gpu.size(), gpu.size() == 1 ? "" : "s");
    return Status::Ok();
  }));

  // An unhealthy cluster is a result, not an error: the caller prints the status and exits 1.
  Status verified = steps.Run("Verify", [&](std::string& detail) -> Status {
    KMPS_ASSIGN_OR_RETURN(result.status, CollectStatus(client, config));
    KMPS_RETURN_IF_ERROR(result.status.AsStatus());
    detail = "healthy";
    return Status::Ok();
  });
  if (!verified.ok() && result.status.cluster.empty()) return verified;  // Docker could not be asked
  result.total_ms = MsSince(t0);
  return result;
}

Status Down(docker::DockerClient& client, const DownOptions& options, const ProgressFn& progress) {
  const kind::ClusterConfig& config = options.config;
  Steps steps(progress, options.keep_cluster ? 1 : 2);
  // kind and the kubeconfig lock are checked before any daemon is stopped: a down that could not
  // delete the cluster leaves it as it was.
  std::string kind;
  if (!options.keep_cluster) {
    KMPS_ASSIGN_OR_RETURN(kind, kind::FindExecutable(options.kind));
    KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete));
  }
  bool listed = false;
  Status quit = steps.Run("Stop the MPS daemons", [&](std::string& detail) -> Status {
    KMPS_ASSIGN_OR_RETURN(std::vector<NodeRef> nodes, ListNodes(client, config));
    listed = true;
    std::vector<NodeRef> live;
    for (const auto& n : nodes) {
      if (n.running && n.gpu) live.push_back(n);
    }
    auto statuses = ForEachParallel(client, live.size(), [&](docker::DockerClient& c, size_t i) {
      DockerNode node(c, live[i].name);
      return mps::Quit(node, config.mps);
    });
    for (const auto& s : statuses) KMPS_RETURN_IF_ERROR(s);
    detail = fmt::format("{} node{}", live.size(), live.size() == 1 ? "" : "s");
    return Status::Ok();
  });
  // A daemon that will not quit does not keep the cluster alive: deleting the nodes ends it.
  if (options.keep_cluster || !listed) return quit;
  if (!quit.ok()) steps.Line(fmt::format("{}; deleting the cluster anyway", quit.message()));
  return steps.Run("Delete the kind cluster", [&](std::string& detail) -> Status {
    KMPS_RETURN_IF_ERROR(RunKind(kind::DeleteClusterArgs(kind, config.name), options.kind_timeout, steps,
                                 "run kindmps-api down again to remove the rest"));
    detail = config.name + " deleted";
    return Status::Ok();
  });
}

}  // namespace kmps::cluster
