#include "cluster/up.h"

#include <chrono>

#include <fmt/core.h>

#include "cluster/cdi_spec.h"
#include "cluster/nodes.h"
#include "cluster/prepare_node.h"
#include "kind/host_inspect.h"
#include "kind/host_paths.h"
#include "kind/kind_failure.h"
#include "kind/kind_render.h"
#include "kind/kind_runner.h"
#include "kind/kubeconfig.h"
#include "mps/mps_control.h"
#include "node/node.h"

namespace kmps::cluster {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Runs `kind <verb> cluster --name <name> ...` (argv) and every process it starts; a non-zero
// exit is kFailed with kind's informative line, a forwarded signal that stopped it an
// interruption "interrupted (SIGINT): kind <verb> cluster --name <name> was stopped[; <next>]".
Status RunKind(node::Commander& host, const std::vector<std::string>& argv, std::chrono::seconds timeout,
               StepRunner& steps, std::string_view next = {}) {
  kind::KindOutput output;  // the whole stream: kind's ERROR line may come long before the end
  node::Command command;
  command.argv = argv;
  command.timeout = timeout;
  command.on_line = [&](std::string_view line) {
    output.Add(line);
    steps.Line(fmt::format("kind: {}", line));
  };
  std::string what = fmt::format("kind {} cluster --name {}", argv[1], argv[4]);
  auto r = host.Run(command);
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
Status RemoveWhatCreateLeft(Env& env, const UpOptions& options, const std::string& kind, StepRunner& steps,
                            const Status& created) {
  const std::string& name = options.config.name;
  bool interrupted = created.code() == Code::kCancelled;
  auto left = env.provider.ContainerNames(name);
  if (!left.ok()) {
    std::string unknown = fmt::format("whether it left node containers is unknown ({})", left.status().message());
    if (interrupted) return Then(created, fmt::format("{}; {}", unknown, kFinishOrRemove));
    return Status(created.code(), fmt::format("{}; {}: kindmps-api down removes them", created.message(), unknown));
  }
  if (left->empty()) {
    return interrupted ? Then(created, "it left no node container; run kindmps-api up again") : created;
  }
  std::string names;
  for (const auto& n : *left) names += fmt::format("{}{}", names.empty() ? "" : ", ", n);
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
  Status deleted = RunKind(env.host, kind::DeleteClusterArgs(kind, name), options.kind_timeout, steps, kFinishOrRemove);
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
Status EnsureCluster(Env& env, const UpOptions& options, StepRunner& steps, UpResult& result, node::NodeList& nodes,
                     std::string& detail) {
  const config::ClusterConfig& config = options.config;
  KMPS_ASSIGN_OR_RETURN(node::NodeList existing, ListClusterNodes(env.provider, config));
  if (!existing.empty() && !options.recreate) {
    KMPS_ASSIGN_OR_RETURN(bool finished, KindFinished(existing));
    if (finished) {
      detail = fmt::format("cluster {} exists ({} nodes); kept", config.name, existing.size());
      nodes = std::move(existing);
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
        RunKind(env.host, kind::DeleteClusterArgs(kind, config.name), options.kind_timeout, steps, kFinishOrRemove));
  }
  Status created = RunKind(env.host, kind::CreateClusterArgs(kind, config.name, result.kind_config_path, config.image),
                           options.kind_timeout, steps);
  result.kind_ms = MsSince(kind_t0);
  if (!created.ok()) return RemoveWhatCreateLeft(env, options, kind, steps, created);
  KMPS_ASSIGN_OR_RETURN(nodes, ListClusterNodes(env.provider, config));
  if (nodes.empty()) return Failed(fmt::format("kind made no nodes for cluster {}", config.name));
  result.created = true;
  detail = fmt::format("created in {:.1f} s", result.kind_ms / 1000);
  return Status::Ok();
}

// Every GPU node prepared (one exec and one `top` each), every other node read as `status`
// reads it, all at once.
Status PrepareNodes(const config::ClusterConfig& config, const kind::HostInventory& inventory, node::NodeList& nodes,
                    StepRunner& steps, UpResult& result, std::string& detail) {
  std::vector<size_t> gpu;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const node::NodeInfo& n = nodes[i]->info();
    if (!n.gpu) continue;
    if (!n.running) return Failed(fmt::format("node {} is not running (docker start it, or up --recreate)", n.name));
    gpu.push_back(i);
  }
  if (gpu.empty()) return Failed(fmt::format("cluster {} has no GPU node (see gpuNodes)", config.name));
  result.status.cluster = config.name;
  result.status.nodes.resize(nodes.size());
  std::vector<std::string> notes(nodes.size());
  auto statuses = node::ParallelFor(nodes.size(), [&](size_t i) -> Status {
    node::Node& n = *nodes[i];
    if (!n.info().gpu) {
      result.status.nodes[i] = ReadNodeStatus(n, config);
      return Status::Ok();
    }
    KMPS_ASSIGN_OR_RETURN(Prepared prepared, PrepareNode(n, config, RenderCdiSpec(n.name(), config, inventory)));
    result.status.nodes[i] = std::move(prepared.status);
    notes[i] = std::move(prepared.note);
    return Status::Ok();
  });
  for (size_t i : gpu) {
    KMPS_RETURN_IF_ERROR(statuses[i]);
    steps.Line(notes[i]);
    result.node_notes.push_back(notes[i]);
  }
  detail = fmt::format("{} node{}", gpu.size(), gpu.size() == 1 ? "" : "s");
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

StatusOr<UpResult> Up(Env env, const UpOptions& options, const ProgressFn& progress) {
  const config::ClusterConfig& config = options.config;
  UpResult result;
  auto t0 = Clock::now();
  StepRunner steps(progress);
  kind::HostInventory inventory;
  node::NodeList nodes;
  bool verified = false;
  std::vector<Step> flow = {
      {"Inspect the host's NVIDIA driver",
       [&](std::string& detail) -> Status {
         inventory = kind::InspectHost({config.driver_root, config.dev_root});
         KMPS_RETURN_IF_ERROR(kind::RequireComplete(inventory));
         detail = fmt::format("{} libraries, {} binaries, {} devices{}", inventory.libraries.size(),
                              inventory.binaries.size(), inventory.devices.size(),
                              inventory.driver_version.empty() ? "" : ", driver " + inventory.driver_version);
         return Status::Ok();
       }},
      {"Write the kind config",
       [&](std::string& detail) -> Status {
         KMPS_RETURN_IF_ERROR(kind::CheckKindConfigHostPaths(config, inventory));
         KMPS_ASSIGN_OR_RETURN(std::string yaml, kind::RenderKindConfig(config, inventory));
         KMPS_ASSIGN_OR_RETURN(result.kind_config_path, env.state.Save(config, yaml));
         detail = result.kind_config_path;
         return Status::Ok();
       }},
      {"Create the kind cluster",
       [&](std::string& detail) { return EnsureCluster(env, options, steps, result, nodes, detail); }},
      {"Start MPS in the GPU nodes",
       [&](std::string& detail) { return PrepareNodes(config, inventory, nodes, steps, result, detail); }},
      // An unhealthy cluster is a result, not an error: the caller prints the status and exits 1.
      {"Verify",
       [&](std::string& detail) -> Status {
         verified = true;
         KMPS_RETURN_IF_ERROR(result.status.AsStatus());
         detail = "healthy";
         return Status::Ok();
       }},
  };
  Status s = steps.Run(flow);
  if (!s.ok() && !verified) return s;
  result.total_ms = MsSince(t0);
  return result;
}

Status Down(Env env, const DownOptions& options, const ProgressFn& progress) {
  const config::ClusterConfig& config = options.config;
  StepRunner steps(progress);
  // kind and the kubeconfig lock are checked before any daemon is stopped: a down that could not
  // delete the cluster leaves it as it was.
  std::string kind;
  if (!options.keep_cluster) {
    KMPS_ASSIGN_OR_RETURN(kind, kind::FindExecutable(options.kind));
    KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete));
  }
  bool listed = false;
  std::vector<Step> flow = {{"Stop the MPS daemons", [&](std::string& detail) -> Status {
                               KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, ListClusterNodes(env.provider, config));
                               listed = true;
                               std::vector<node::Node*> live;
                               for (const auto& n : nodes) {
                                 if (n->info().running && n->info().gpu) live.push_back(n.get());
                               }
                               auto statuses = node::ParallelFor(
                                   live.size(), [&](size_t i) { return mps::Quit(*live[i], config.mps); });
                               for (const auto& st : statuses) KMPS_RETURN_IF_ERROR(st);
                               detail = fmt::format("{} node{}", live.size(), live.size() == 1 ? "" : "s");
                               return Status::Ok();
                             }}};
  if (!options.keep_cluster) {
    // A daemon that will not quit does not keep the cluster alive: deleting the nodes ends it
    // (once the nodes could be listed at all).
    flow.front().keep_going = [&](const Status& quit) {
      if (listed) steps.Line(fmt::format("{}; deleting the cluster anyway", quit.message()));
      return listed;
    };
    flow.push_back({"Delete the kind cluster", [&](std::string& detail) -> Status {
                      KMPS_RETURN_IF_ERROR(RunKind(env.host, kind::DeleteClusterArgs(kind, config.name),
                                                   options.kind_timeout, steps,
                                                   "run kindmps-api down again to remove the rest"));
                      detail = config.name + " deleted";
                      return Status::Ok();
                    }});
  }
  return steps.Run(flow);
}

}  // namespace kmps::cluster
