#include "cluster/up.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cluster/cdi_spec.h"
#include "cluster/daemons.h"
#include "cluster/nodes.h"
#include "cluster/prepare_node.h"
#include "cluster/request_diff.h"
#include "cluster/state.h"
#include "kind/gpu_assign.h"
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
Status RunKind(node::Commander& host, const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
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
  if (Status locked = kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete, options.kind_flags.kubeconfig);
      !locked.ok()) {
    std::string why = fmt::format("it left {} node container{} ({}), kept: {}", left->size(),
                                  left->size() == 1 ? "" : "s", names, locked.message());
    if (interrupted) return Then(created, fmt::format("{}; {}", why, kFinishOrRemove));
    return Status(created.code(), fmt::format("{}; {}; then run kindmps-api down", created.message(), why));
  }
  steps.Line(fmt::format("kind create cluster --name {} {} and left {} node container{} ({}): deleting {} with kind "
                         "delete cluster --name {}",
                         name, interrupted ? "was stopped" : "failed", left->size(), left->size() == 1 ? "" : "s",
                         names, left->size() == 1 ? "it" : "them", name));
  Status deleted = RunKind(env.host, kind::DeleteClusterArgs(kind, name, options.kind_flags), options.kind_timeout,
                           steps, kFinishOrRemove);
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

// What `up` does with the cluster of its name, decided before anything changes.
struct Plan {
  enum class Action { kCreate, kKeep, kRecreate } action = Action::kCreate;
  node::NodeList existing;     // the nodes found
  bool half_made = false;      // for kRecreate: kind did not finish it (else --recreate)
  std::vector<std::string> live;  // for kKeep: the changes applied to the running nodes
  std::string kind;            // the kind binary, found (kCreate, kRecreate)
  bool had_state = false;      // a state was saved for the cluster before this up
};

// Checks the request against the cluster of its name and what was saved of it; nothing changes.
// A cluster kind finished is kept when the request only changes what can be applied live (the
// nodes are then prepared again); otherwise kInvalidArgument naming each difference and
// --recreate. One with a node of its saved shape missing is kFailed saying so.
// Where the MPS control binary is in a GPU node kindmps-api made (its driver mounts).
std::string MpsBinaryInNode(const kind::HostInventory& inventory) {
  for (const auto& m : kind::GpuMounts(inventory)) {
    std::string_view p = m.container_path;
    if (p.size() >= 24 && p.substr(p.size() - 24) == "/nvidia-cuda-mps-control") return m.container_path;
  }
  return "";
}

// Why the finished cluster of `nodes`, with no state saved, is not one kindmps-api made: a GPU
// node without the driver mounts (kind's own `kind create cluster`, say); "" when it is one.
StatusOr<std::string> NotOurs(const node::NodeList& nodes, const std::string& mps_binary) {
  if (mps_binary.empty()) return std::string();
  for (const auto& n : nodes) {
    if (!n->info().gpu) continue;
    KMPS_ASSIGN_OR_RETURN(bool mounted, n->PathExists(mps_binary));
    if (!mounted) return fmt::format("its node {} has no NVIDIA driver mounts ({} is not there)", n->name(), mps_binary);
  }
  return std::string();
}

StatusOr<Plan> PlanCluster(Env& env, const UpOptions& options, const std::string& kind_config_yaml,
                           const kind::HostInventory& inventory) {
  const config::ClusterConfig& config = options.config;
  Plan plan;
  KMPS_ASSIGN_OR_RETURN(std::optional<StateStore::Saved> saved, env.state.Find(config.name));
  plan.had_state = saved.has_value();
  KMPS_ASSIGN_OR_RETURN(plan.existing, ListClusterNodes(env.provider, config));
  if (!plan.existing.empty() && !options.recreate) {
    KMPS_ASSIGN_OR_RETURN(bool finished, KindFinished(plan.existing));
    if (finished) {
      // Made without a saved state (another kindmps-api, the state removed): its shape is what
      // the request is checked against.
      const config::ClusterConfig& was = saved ? saved->config : config;
      std::vector<std::string> listed;
      for (const auto& n : plan.existing) listed.push_back(n->name());
      std::vector<std::string> shape = ShapeProblems(listed, was);
      if (!shape.empty() && saved) return Failed(shape.front());
      if (!saved) {
        KMPS_ASSIGN_OR_RETURN(std::string why, NotOurs(plan.existing, MpsBinaryInNode(inventory)));
        if (!why.empty()) {
          return InvalidArgument(fmt::format("cluster {} exists but was not made by kindmps-api: {}; kindmps-api up "
                                             "--recreate deletes it and makes it with the GPU passed through",
                                             config.name, why));
        }
      }
      RequestDiff diff =
          saved ? DiffRequest(saved->config, config, saved->kind_config, kind_config_yaml) : RequestDiff{};
      if (!shape.empty()) diff.fixed.push_back(shape.front());
      if (!diff.fixed.empty()) {
        return InvalidArgument(fmt::format("cluster {} exists, and this up asks for another one: {}; kindmps-api up "
                                           "--recreate deletes it and creates the one asked for",
                                           config.name, fmt::join(diff.fixed, "; ")));
      }
      plan.action = Plan::Action::kKeep;
      plan.live = std::move(diff.live);
      return plan;
    }
    plan.half_made = true;
  }
  plan.action = plan.existing.empty() ? Plan::Action::kCreate : Plan::Action::kRecreate;
  KMPS_ASSIGN_OR_RETURN(plan.kind, kind::FindExecutable(options.kind));
  const std::string& kubeconfig = options.kind_flags.kubeconfig;
  if (!plan.existing.empty()) {
    KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete, kubeconfig));
  }
  KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kCreate, kubeconfig));
  return plan;
}

// The "Create the kind cluster" step: keeps the cluster the plan keeps, else (re)creates it and
// saves its state, which is then true. A first up that fails here leaves no state directory.
Status EnsureCluster(Env& env, const UpOptions& options, Plan& plan, StepRunner& steps, UpResult& result,
                     node::NodeList& nodes, std::string& detail) {
  const config::ClusterConfig& config = options.config;
  if (plan.action == Plan::Action::kKeep) {
    detail = fmt::format("cluster {} exists ({} nodes); kept{}{}", config.name, plan.existing.size(),
                         plan.live.empty() ? "" : "; applying ", fmt::join(plan.live, ", "));
    nodes = std::move(plan.existing);
    return Status::Ok();
  }
  // What is saved must not outlive the cluster: a first up, or a recreate once the old cluster is
  // deleted, that fails here removes it.
  bool deleted = false;
  auto forget = [&](Status failed) {
    if (!plan.had_state || deleted) (void)env.state.Remove(config.name);
    return failed;
  };
  auto kind_t0 = Clock::now();
  if (plan.action == Plan::Action::kRecreate) {
    steps.Line(fmt::format("cluster \"{}\" {}: deleting and creating it again", config.name,
                           plan.half_made ? "was left half-made (kind did not finish)" : "exists (--recreate)"));
    KMPS_RETURN_IF_ERROR(RunKind(env.host, kind::DeleteClusterArgs(plan.kind, config.name, options.kind_flags),
                                 options.kind_timeout,
                                 steps, kFinishOrRemove));
    deleted = true;
  }
  Status created = RunKind(env.host, kind::CreateClusterArgs(plan.kind, config.name, result.kind_config_path,
                                                             config.image, options.kind_flags),
                           options.kind_timeout, steps);
  result.kind_ms = MsSince(kind_t0);
  if (!created.ok()) return forget(RemoveWhatCreateLeft(env, options, plan.kind, steps, created));
  KMPS_ASSIGN_OR_RETURN(nodes, ListClusterNodes(env.provider, config));
  if (nodes.empty()) return forget(Failed(fmt::format("kind made no nodes for cluster {}", config.name)));
  KMPS_RETURN_IF_ERROR(env.state.Save(config));
  result.created = true;
  detail = fmt::format("created in {:.1f} s", result.kind_ms / 1000);
  return Status::Ok();
}

// The pinned limits name GPUs by number: each must be a device node of the host.
Status CheckMpsDevices(const config::ClusterConfig& config, const kind::HostInventory& inventory,
                       const std::vector<kind::NodeGpus>& assignment) {
  if (config.mps.daemons == config::MpsSettings::Daemons::kPerGpu) {
    // Each daemon sees its own GPU as device 0 (ValidatePerGpuSettings).
    std::vector<std::vector<kind::HostGpu>> node_gpus;
    for (const auto& a : assignment) node_gpus.push_back(a.gpus);
    return CheckDaemonPlan(config.mps, node_gpus, inventory.gpus);
  }
  for (const auto& limit : config.mps.pinned_device_memory_limits) {
    std::string want = "/nvidia" + limit.device;
    bool found = std::any_of(inventory.devices.begin(), inventory.devices.end(), [&](const kind::HostDevice& d) {
      return d.path.size() >= want.size() && d.path.compare(d.path.size() - want.size(), want.size(), want) == 0;
    });
    if (!found) {
      return InvalidArgument(fmt::format("mps.pinnedDeviceMemoryLimits: device {} is no GPU of this host (no "
                                         "{}dev{})",
                                         limit.device, config.dev_root == "/" ? "/" : config.dev_root + "/", want));
    }
  }
  return Status::Ok();
}

// Every GPU node prepared (one exec and one `top` each), every other node read as `status`
// reads it, all at once.
Status PrepareNodes(const config::ClusterConfig& config, const kind::HostInventory& inventory,
                    const std::vector<kind::NodeGpus>& assignment, node::NodeList& nodes, StepRunner& steps,
                    UpResult& result, std::string& detail) {
  std::vector<size_t> gpu;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const node::NodeInfo& n = nodes[i]->info();
    if (!n.gpu) continue;
    if (n.paused) return Failed(fmt::format("node {} is paused (docker unpause {})", n.name, n.name));
    if (!n.running) return Failed(fmt::format("node {} is not running (docker start {}, or up --recreate)", n.name, n.name));
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
    GpuPlan plan;
    for (const auto& a : assignment) {
      if (a.node != n.name()) continue;
      if (!a.all) {
        plan.all = false;
        for (const auto& g : a.gpus) plan.keep.push_back(g.minor);
        plan.visible_devices = kind::VisibleDevices(a.gpus);
      }
      plan.daemons = PlanDaemons(config.mps, a.gpus, plan.visible_devices);
    }
    KMPS_ASSIGN_OR_RETURN(Prepared prepared, PrepareNode(n, config, RenderCdiSpec(n.name(), config, inventory, plan.daemons,
                                                                       plan.all ? std::nullopt : std::optional(plan.keep)),
                                                         std::chrono::seconds(20), plan));
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
  j["kind"] = "UpResult";  // the status document, and what up did
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
  std::vector<kind::NodeGpus> assignment;
  std::string kind_config;
  Plan plan;
  node::NodeList nodes;
  bool verified = false, wrote_kind_config = false;
  std::vector<Step> flow = {
      {"Inspect the host's NVIDIA driver",
       [&](std::string& detail) -> Status {
         if (!options.kind_flags.wait.empty() && !kind::IsKindDuration(options.kind_flags.wait)) {
           return InvalidArgument(fmt::format("--wait \"{}\": expected a duration as kind takes it, e.g. 60s or 5m",
                                              options.kind_flags.wait));
         }
         inventory = kind::InspectHost(kind::InspectOptionsFor(config));
         KMPS_RETURN_IF_ERROR(kind::RequireComplete(inventory));
         KMPS_ASSIGN_OR_RETURN(assignment, kind::AssignGpus(config, inventory.gpus));
         KMPS_RETURN_IF_ERROR(CheckMpsDevices(config, inventory, assignment));
         KMPS_RETURN_IF_ERROR(kind::CheckKindConfigHostPaths(config, inventory));
         KMPS_ASSIGN_OR_RETURN(kind_config, kind::RenderKindConfig(config, inventory));
         detail = fmt::format("{} libraries, {} binaries, {} devices{}", inventory.libraries.size(),
                              inventory.binaries.size(), inventory.devices.size(),
                              inventory.driver_version.empty() ? "" : ", driver " + inventory.driver_version);
         if (config.gpus.mode != config::GpuAssignment::Mode::kAll) {
           std::vector<std::string> given;
           for (const auto& a : assignment) given.push_back(fmt::format("{} GPU {}", a.node, kind::MinorList(a.gpus)));
           detail += fmt::format("; {}", fmt::join(given, ", "));
         }
         return Status::Ok();
       }},
      // Every check before the first change: the cluster there, the saved state, kind, the lock.
      {"Check the cluster against the request",
       [&](std::string& detail) -> Status {
         KMPS_ASSIGN_OR_RETURN(plan, PlanCluster(env, options, kind_config, inventory));
         detail = plan.action == Plan::Action::kCreate   ? "none yet: creating it"
                  : plan.action == Plan::Action::kKeep   ? "exists: keeping it"
                  : plan.half_made                       ? "left half-made: recreating it"
                                                         : "exists: recreating it (--recreate)";
         return Status::Ok();
       }},
      {"Write the kind config",
       [&](std::string& detail) -> Status {
         if (plan.action == Plan::Action::kKeep) {
           result.kind_config_path = KindConfigPath(config.name);
           detail = "kept: " + result.kind_config_path;
           return Status::Ok();
         }
         KMPS_ASSIGN_OR_RETURN(result.kind_config_path, env.state.SaveKindConfig(config.name, kind_config));
         wrote_kind_config = true;
         steps.SetInterruptHint("the cluster was not touched; run kindmps-api up again");
         detail = result.kind_config_path;
         return Status::Ok();
       }},
      {"Create the kind cluster",
       [&](std::string& detail) {
         Status s = EnsureCluster(env, options, plan, steps, result, nodes, detail);
         steps.SetInterruptHint(std::string(kFinishOrRemove));
         return s;
       }},
      {"Start MPS in the GPU nodes",
       [&](std::string& detail) -> Status {
         KMPS_RETURN_IF_ERROR(PrepareNodes(config, inventory, assignment, nodes, steps, result, detail));
         // A kept cluster now has what the request changed live: that is saved.
         if (plan.action == Plan::Action::kKeep) KMPS_RETURN_IF_ERROR(env.state.Save(config));
         return Status::Ok();
       }},
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
  if (!s.ok() && !verified) {
    // A first up stopped before kind made anything leaves no state directory behind.
    if (wrote_kind_config && !plan.had_state && !result.created) (void)env.state.Remove(config.name);
    return s;
  }
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
    KMPS_RETURN_IF_ERROR(kind::CheckKubeconfigUnlocked(kind::KindCommand::kDelete, options.kubeconfig));
  }
  bool listed = false;
  std::vector<Step> flow = {{"Stop the MPS daemons", [&](std::string& detail) -> Status {
                               KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, ListClusterNodes(env.provider, config));
                               listed = true;
                               std::vector<node::Node*> live;
                               for (const auto& n : nodes) {
                                 if (n->info().running && n->info().gpu) live.push_back(n.get());
                               }
                               // The nodes at once; a node's daemons (one per GPU with perGpu) in turn.
                               auto statuses = node::ParallelFor(live.size(), [&](size_t i) -> Status {
                                 KMPS_ASSIGN_OR_RETURN(std::vector<MpsTarget> daemons, DaemonTargets(*live[i], config));
                                 for (const auto& d : daemons) KMPS_RETURN_IF_ERROR(mps::Quit(*live[i], d.mps));
                                 return Status::Ok();
                               });
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
                      KMPS_RETURN_IF_ERROR(RunKind(env.host,
                                                   kind::DeleteClusterArgs(kind, config.name, {"", false, options.kubeconfig}),
                                                   options.kind_timeout, steps,
                                                   "run kindmps-api down again to remove the rest"));
                      detail = config.name + " deleted";
                      // Nothing is left for the state to describe.
                      return env.state.Remove(config.name);
                    }});
  }
  return steps.Run(flow);
}

}  // namespace kmps::cluster
