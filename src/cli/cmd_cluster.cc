// up, status, mps, down.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/json_text.h"
#include "cli/cli.h"
#include "common/interrupt.h"
#include "common/text.h"
#include "cluster/api.h"
#include "docker_api/docker_client.h"
#include "config/config.h"
#include "config/overrides.h"

namespace kmps::cli {
namespace {

struct ClusterFlags {
  std::string config_file;
  std::string name;
  std::optional<int> workers;
  std::string image;
  std::string kind = "kind";
  std::string driver_root;
  std::string dev_root;
  std::string shm_size;
  std::optional<std::string> kind_config;  // --kind-config
  std::optional<std::string> gpus;         // --gpus
  std::optional<std::string> mps_daemons;  // --mps-daemons
  std::string proc_root;
  bool no_start_server = false;
  bool recreate = false;
  bool json = false;
  bool keep_cluster = false;
  double timeout_s = 0;  // --timeout; 0: the default of the command
  int verbosity = 0;     // Context::verbosity
  kind::KindFlags kind_flags;  // kind's --wait, --retain, --kubeconfig
  std::string node;
  std::string gpu;  // mps --gpu
  bool all = false;
  std::vector<std::string> command;
};

// The file (--config, else ./kindmps.yaml when present) under the defaults, then the flags.
StatusOr<config::ClusterConfig> ResolveConfig(const ClusterFlags& f) {
  config::ConfigOverrides o;
  if (!f.name.empty()) o.name = f.name;
  o.workers = f.workers;
  if (!f.image.empty()) o.image = f.image;
  if (!f.driver_root.empty()) o.driver_root = f.driver_root;
  if (!f.dev_root.empty()) o.dev_root = f.dev_root;
  if (!f.shm_size.empty()) o.shm_size = f.shm_size;
  o.kind_config = f.kind_config;
  o.gpus = f.gpus;
  o.mps_daemons = f.mps_daemons;
  if (!f.proc_root.empty()) o.proc_root = f.proc_root;
  KMPS_ASSIGN_OR_RETURN(config::ClusterConfig config, config::LoadConfigWithOverrides(f.config_file, o));
  if (f.no_start_server) config.mps.start_server = false;
  return config;
}


std::string Bytes(std::optional<uint64_t> b) {
  if (!b) return "?";
  if (*b >= (1ull << 30) && *b % (1ull << 30) == 0) return fmt::format("{}G", *b >> 30);
  if (*b >= (1ull << 20)) return fmt::format("{}M", *b >> 20);
  return fmt::format("{}", *b);
}

void PrintStatusTable(const cluster::ClusterStatus& s) {
  fmt::print("cluster {}: {}\n", s.cluster, s.healthy() ? "healthy" : "UNHEALTHY");
  if (s.nodes.empty()) {
    for (const auto& p : s.problems) fmt::print("  {}\n", p);
    return;
  }
  // Columns as wide as what they hold, so that no name breaks the table.
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "ROLE", "RUNNING", "GPU", "SHM", "MPS CONTROL", "SERVERS", "CLIENTS", "ACCESS", "PIPE"}};
  for (const auto& n : s.nodes) {
    std::string control = !n.gpu_daemons.empty() ? fmt::format("{} (per GPU)", n.mps.controls.size())
                          : n.mps.control       ? fmt::format("pid {}", n.mps.control->pid)
                                                : "-";
    std::string servers;
    for (const auto& sv : n.mps.servers) servers += fmt::format("{}{}", servers.empty() ? "" : ",", sv.pid);
    size_t client_count = n.daemon.client_count();
    for (const auto& d : n.gpu_daemons) client_count += d.daemon.client_count();
    std::string clients = n.mps.control ? std::to_string(client_count) : "-";
    // A GPU node's GPUs by device minor, as its /dev/nvidiaN show them (gpus:).
    std::string gpu = !n.node.gpu ? "no" : n.gpus.empty() ? "yes" : fmt::format("{}", fmt::join(n.gpus, ","));
    rows.push_back({n.node.name, n.node.role, n.node.paused ? "paused" : n.node.running ? "yes" : "no",
                    gpu, n.node.running ? Bytes(n.shm_bytes) : "-", control,
                    servers.empty() ? "-" : servers, clients, n.node.gpu ? n.mps_access() : "-",
                    n.gpu_daemons.empty() ? (n.pipe_socket ? "socket" : "-") : "per GPU"});
    // mps.daemons perGpu: a row per GPU's daemon under its node.
    for (const auto& d : n.gpu_daemons) {
      std::string dservers;  // as the daemon lists them (the node's PIDs)
      for (const auto& sv : d.daemon.servers) dservers += fmt::format("{}{}", dservers.empty() ? "" : ",", sv.pid);
      rows.push_back({fmt::format("  GPU {}", d.gpu), "", "", std::to_string(d.gpu), "",
                      d.pid ? fmt::format("pid {}", *d.pid) : "-", dservers.empty() ? "-" : dservers,
                      d.pid ? std::to_string(d.daemon.client_count()) : "-", "",
                      d.pipe_socket ? d.pipe_directory + "/control" : "-"});
    }
  }
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}} ", row[i], width[i]);
    }
    fmt::print("{}\n", line);
  }
  auto daemon_lines = [](const std::string& who, const cluster::DaemonView& daemon) {
    std::string pods;
    for (const auto& sv : daemon.servers) {
      for (int pid : sv.clients) {
        auto it = daemon.client_pods.find(pid);
        pods += fmt::format("{}{} ({})", pods.empty() ? "" : ", ", pid,
                            it == daemon.client_pods.end() ? "pod unknown" : it->second);
      }
    }
    if (!pods.empty()) fmt::print("  clients of {}: {}\n", who, pods);
    if (daemon.refused_commands.value_or(0) > 0) {
      fmt::print("  note: the MPS daemon of {} refused {} control command(s) from a user who may not change it "
                 "(a Pod?); its control.log in the node says which\n",
                 who, *daemon.refused_commands);
    }
  };
  for (const auto& n : s.nodes) {
    daemon_lines(n.node.name, n.daemon);
    for (const auto& d : n.gpu_daemons) daemon_lines(fmt::format("{} GPU {}", n.node.name, d.gpu), d.daemon);
  }
  for (const auto& note : s.notes) fmt::print("  note: {}\n", note);
  for (const auto& p : s.problems) fmt::print("  problem: {}\n", p);
  for (const auto& n : s.nodes) {
    for (const auto& p : n.problems) fmt::print("  problem: {}\n", p);
  }
}

// Step progress on stderr: a live line per step on a terminal, plain lines otherwise.
// -q (verbosity -1): none; default: the steps and the nodes' notes; -v: kind's own lines too.
cluster::ProgressFn Progress(int verbosity) {
  if (verbosity < 0) return nullptr;
  bool tty = ::isatty(STDERR_FILENO);
  return [tty, verbosity](const cluster::ProgressEvent& e) {
    using K = cluster::ProgressEvent::Kind;
    switch (e.kind) {
      case K::kStepStarted:
        if (tty) fmt::print(stderr, " \u2022 [{}/{}] {} ...\n", e.step, e.total, e.title);
        break;
      case K::kStepDone:
        fmt::print(stderr, fmt::runtime(tty ? " \u2713 [{}/{}] {} ({:.0f} ms){}{}\n" : "[{}/{}] {} ok ({:.0f} ms){}{}\n"), e.step,
                   e.total, e.title, e.elapsed_ms, e.detail.empty() ? "" : ": ", e.detail);
        break;
      case K::kStepFailed:
        fmt::print(stderr, fmt::runtime(tty ? " \u2717 [{}/{}] {} ({:.0f} ms)\n" : "[{}/{}] {} FAILED ({:.0f} ms)\n"), e.step, e.total,
                   e.title, e.elapsed_ms);
        break;
      case K::kLine:
        if (verbosity > 0 || e.detail.rfind("kind: ", 0) != 0) fmt::print(stderr, "    {}\n", e.detail);
        break;
    }
  };
}

// Runs `call` with the façade over a Docker client (which checks Docker's reachability itself,
// after the request and the saved state).
template <typename Call>
int WithApi(Call call) {
  auto client = docker::DockerClient::Create();
  if (!client.ok()) return Report(client.status());
  cluster::Api api(**client);
  return call(api);
}

int RunUp(const ClusterFlags& f) {
  auto config = ResolveConfig(f);
  if (!config.ok()) return Report(config.status());
  return WithApi([&](cluster::Api& api) {
    cluster::UpOptions options;
    options.config = *config;
    options.kind = f.kind;
    options.recreate = f.recreate;
    if (f.timeout_s > 0) options.kind_timeout = Millis(f.timeout_s);
    options.kind_flags = f.kind_flags;
    InterruptWatch interrupts;  // Ctrl-C stops at the next step, saying what it left
    auto result = api.Up(options, Progress(f.verbosity));
    if (!result.ok()) return Report(result.status());
    const cluster::ClusterStatus& s = result->status;
    if (f.json) {
      fmt::print("{}\n", JsonText(result->ToJson()));
    } else {
      PrintStatusTable(s);
      fmt::print("kind config: {}\ntime: {:.1f} s (kind {:.1f} s, kindmps-api {:.1f} s)\n", result->kind_config_path,
                 result->total_ms / 1000, result->kind_ms / 1000, (result->total_ms - result->kind_ms) / 1000);
    }
    return Report(s.AsStatus());
  });
}

int RunStatus(const ClusterFlags& f) {
  auto name = config::ResolveClusterName(f.name, f.config_file);
  if (!name.ok()) return Report(name.status());
  return WithApi([&](cluster::Api& api) {
    auto s = api.ReadStatus(*name);
    if (!s.ok()) return Report(s.status());
    if (f.json) {
      fmt::print("{}\n", JsonText(s->ToJson()));
    } else {
      PrintStatusTable(*s);
    }
    return Report(s->AsStatus());
  });
}

int RunMps(const ClusterFlags& f) {
  std::string command;
  for (const auto& part : f.command) command += fmt::format("{}{}", command.empty() ? "" : " ", part);
  if (command.empty()) return Report(InvalidArgument("mps needs a command, e.g. kindmps-api mps get_server_list"));
  auto name = config::ResolveClusterName(f.name, f.config_file);
  if (!name.ok()) return Report(name.status());
  return WithApi([&](cluster::Api& api) {
    auto replies = api.Mps({*name, f.node, f.all, command, f.gpu});
    if (!replies.ok()) return Report(replies.status());
    if (f.json) {
      fmt::print("{}\n", JsonText(cluster::MpsRepliesToJson(*replies)));
      Status first = cluster::FirstFailure(*replies);
      return first.ok() ? 0 : ProcessExitCodeFor(first);
    }
    int exit_code = 0;
    for (const auto& r : *replies) {
      if (!r.reply.ok()) {
        int code = Report(r.reply.status());
        if (exit_code == 0) exit_code = code;
        continue;
      }
      if (replies->size() == 1) {
        fmt::print("{}", *r.reply);
        continue;
      }
      std::string from = r.gpu ? fmt::format("{} GPU {}", r.node, *r.gpu) : r.node;
      ForEachLine(*r.reply, [&](std::string_view line) { fmt::print("{}: {}\n", from, line); });
    }
    return exit_code;
  });
}

int RunDown(const ClusterFlags& f) {
  auto name = config::ResolveClusterName(f.name, f.config_file);
  if (!name.ok()) return Report(name.status());
  return WithApi([&](cluster::Api& api) {
    cluster::DownRequest request{*name, f.kind, f.keep_cluster};
    if (f.timeout_s > 0) request.kind_timeout = Millis(f.timeout_s);
    request.kubeconfig = f.kind_flags.kubeconfig;
    InterruptWatch interrupts;
    Status down = api.Down(request, Progress(f.verbosity));
    if (f.json) {
      nlohmann::json j = {{"apiVersion", config::kConfigApiVersion}, {"kind", "DownResult"}, {"cluster", *name},
                          {"ok", down.ok()}, {"clusterDeleted", down.ok() && !f.keep_cluster}};
      if (!down.ok()) j["error"] = down.message();
      fmt::print("{}\n", JsonText(j));
    }
    return Report(down);
  });
}

}  // namespace

void RegisterCluster(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<ClusterFlags>();
  // As kind finds the cluster: -n/--name, else $KIND_CLUSTER_NAME, else the config file's name,
  // else kind.
  auto name_flag = [&](CLI::App* sub) {
    sub->add_option("-n,--name", flags->name,
                    "Cluster name (default: $KIND_CLUSTER_NAME, else the config file's, else kind)");
    if (sub->get_name() != "up") sub->add_option("--config", flags->config_file, "kindmps.yaml to take the name from");
  };

  CLI::App* up = app.add_subcommand("up", "Create the kind cluster (if needed) and start MPS in its GPU nodes");
  up->add_option("--config", flags->config_file, "kindmps.yaml (default: ./kindmps.yaml when there)");
  name_flag(up);
  up->add_option("--workers", flags->workers, "Number of worker nodes");
  up->add_option("--image", flags->image, "Node image");
  up->add_option("--kind", flags->kind, "The kind binary (default: kind on PATH)");
  up->add_option("--driver-root", flags->driver_root, "Where the NVIDIA driver's files live (default /)");
  up->add_option("--dev-root", flags->dev_root, "Where dev/nvidia* live (default /)");
  up->add_option("--shm-size", flags->shm_size, "Size of /dev/shm in the GPU nodes (default 8g)");
  up->add_option("--gpus", flags->gpus,
                 "The GPUs each GPU node gets: all (default), one-per-node, or NODE=GPU[+GPU][,NODE=...] "
                 "(a GPU by device minor or UUID)");
  up->add_option("--mps-daemons", flags->mps_daemons,
                 "MPS control daemons in a GPU node: per-node (default: one over its GPUs) or per-gpu (one per GPU, "
                 "each in PIPE_DIRECTORY/gpuN)");
  up->add_option("--proc-root", flags->proc_root, "Where the driver's procfs is: DIR/proc/driver/nvidia (default /)");
  up->add_option("--kind-config", flags->kind_config,
                 "Your own kind config (kind.x-k8s.io/v1alpha4 Cluster) to merge with ours: networking, port "
                 "mappings, labels, mounts, patches, feature gates");
  up->add_flag("--no-start-server", flags->no_start_server, "Do not start an MPS server");
  up->add_flag("--recreate", flags->recreate, "Delete and recreate an existing cluster");
  up->add_flag("--json", flags->json, "Print the status document as JSON");
  up->add_option("--timeout", flags->timeout_s, "Deadline of each kind run, in seconds (default 900)")
      ->check(Seconds(cluster::kMaxTimeoutSeconds));
  // kind's own flags, with kind's meaning.
  up->add_option("--wait", flags->kind_flags.wait, "kind: wait for the control plane to be ready (e.g. 60s)");
  up->add_flag("--retain", flags->kind_flags.retain, "kind: keep the nodes of a failed create, to debug them");
  up->add_option("--kubeconfig", flags->kind_flags.kubeconfig, "kind: the kubeconfig to edit");
  auto verbosity_flags = [&ctx](CLI::App* sub) {
    sub->add_flag_callback("-q,--quiet", [&ctx] { ctx.verbosity = -1; }, "No progress on stderr, only errors");
    sub->add_flag_callback("-v,--verbose", [&ctx] { ctx.verbosity = 1; }, "kind's own output lines in the progress too");
  };
  verbosity_flags(up);
  up->callback([flags, &ctx] {
    flags->verbosity = ctx.verbosity;
    ctx.exit_code = RunUp(*flags);
  });

  CLI::App* status = app.add_subcommand("status", "Show each node's /dev/shm and MPS daemons; exit 0 when healthy");
  name_flag(status);
  status->add_flag("--json", flags->json, "Print JSON");
  status->callback([flags, &ctx] { ctx.exit_code = RunStatus(*flags); });

  CLI::App* mps = app.add_subcommand("mps", "Send one command to the MPS control daemon of a node");
  name_flag(mps);
  CLI::Option* node = mps->add_option("--node", flags->node, "The node (default: the only GPU node)");
  CLI::Option* all = mps->add_flag("--all", flags->all, "Every GPU node")->excludes(node);  // a usage error, exit 2
  mps->add_option("--gpu", flags->gpu, "The GPU node that has this GPU (device minor or UUID; see gpus)")
      ->excludes(node)
      ->excludes(all);
  mps->add_flag("--json", flags->json, "Print the replies as JSON (docs/json.md)");
  mps->add_option("command", flags->command, "The MPS command and its arguments")->required();
  mps->prefix_command();
  mps->callback([flags, &ctx] { ctx.exit_code = RunMps(*flags); });

  CLI::App* down = app.add_subcommand("down", "Quit the MPS daemons, then delete the kind cluster");
  name_flag(down);
  down->add_option("--kind", flags->kind, "The kind binary (default: kind on PATH)");
  down->add_flag("--keep-cluster", flags->keep_cluster, "Only quit the MPS daemons");
  down->add_flag("--json", flags->json, "Print what was done as JSON (docs/json.md)");
  down->add_option("--kubeconfig", flags->kind_flags.kubeconfig, "kind: the kubeconfig to edit");
  down->add_option("--timeout", flags->timeout_s, "Deadline of kind delete cluster, in seconds (default 300)")
      ->check(Seconds(cluster::kMaxTimeoutSeconds));
  verbosity_flags(down);
  down->callback([flags, &ctx] {
    flags->verbosity = ctx.verbosity;
    ctx.exit_code = RunDown(*flags);
  });
}

}  // namespace kmps::cli
