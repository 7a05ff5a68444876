#include "cluster/status.h"

#include <map>

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cluster/cdi_spec.h"
#include "cluster/nodes.h"
#include "cluster/shm.h"
#include "common/text.h"
#include "node/docker_node.h"
#include "mps/mps_control.h"

namespace kmps::cluster {

namespace {
constexpr std::string_view kSeparator = "--kmps-pipe--\n";
constexpr std::string_view kCrictlSeparator = "--kmps-crictl--\n";
// $1: the pipe directory, $2 the CDI spec, $3 the device plugin's socket, $4 the log directory,
// $5 "perGpu" for a daemon per GPU (each in $1/gpuN, logging in $4/gpuN), else "". Prints
// /proc/mounts, a separator, then a line each for what exists: the spec, the plugin, the GPUs'
// device nodes; then per daemon (perGpu: after a line "daemon N" and, where one serves $1/gpuN,
// "pid P") its control socket and, where that is, what the daemon says (each command bounded):
// its default active thread percentage, how often control.log says it refused a command, and,
// per server, the PIDs of its clients in the daemon's PID namespace with the container id in
// each one's cgroup; then, where there are such clients and crictl, a second separator and
// `crictl ps -o json`.
constexpr const char* kProbeScript = R"sh(cat /proc/mounts; printf -- '--kmps-pipe--\n'
[ -f "$2" ] && echo cdi; [ -S "$3" ] && echo plugin
g=; for d in /dev/nvidia[0-9]*; do [ -e "$d" ] && g="$g ${d#/dev/nvidia}"; done; echo "gpus$g"
q() { kmps_mps "$1" 5 2>/dev/null; }
pods=
probe() {
  [ -S "$1/control" ] || return 0
  echo socket
  export CUDA_MPS_PIPE_DIRECTORY="$1" CUDA_MPS_LOG_DIRECTORY="$2"
  [ -f "$2/control.log" ] && echo "refused $(grep -c -e '@REFUSED_SETTINGS@' -e '@REFUSED_COMMAND@' "$2/control.log")"
  command -v nvidia-cuda-mps-control >/dev/null 2>&1 || return 0
  t=$(q get_default_active_thread_percentage) && echo "threads $t"
  for s in $(q get_server_list); do
    case $s in *[!0-9]*) continue ;; esac
    c=$(q "get_client_list $s")
    echo "server $s" $c
    for p in $c; do
      case $p in 0 | *[!0-9]*) continue ;; esac
      id=$(sed -n 's/.*\([0-9a-f]\{64\}\).*/\1/p' "/proc/$p/cgroup" 2>/dev/null | head -n 1)
      [ -n "$id" ] && echo "client $p $id" && pods=1
    done
  done
}
if [ "$5" = perGpu ]; then
  for m in $g; do
    echo "daemon $m"
    for p in /proc/[0-9]*; do
      [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] || continue
      [ "$(tr '\0' '\n' <"$p/environ" 2>/dev/null | sed -n 's/^CUDA_MPS_PIPE_DIRECTORY=//p')" = "$1/gpu$m" ] &&
        echo "pid ${p#/proc/}" && break
    done
    probe "$1/gpu$m" "$4/gpu$m"
  done
else
  probe "$1" "$4"
fi
[ -n "$pods" ] && command -v crictl >/dev/null 2>&1 && printf -- '--kmps-crictl--\n' && kmps_run 5 crictl ps -o json 2>/dev/null
exit 0)sh";
}  // namespace

void ParseDaemonLine(std::string_view line, DaemonView& view) {
  auto words = [](std::string_view rest) {
    std::vector<std::string_view> out;
    for (size_t b = rest.find_first_not_of(' '); b != std::string_view::npos; b = rest.find_first_not_of(' ', b)) {
      size_t e = rest.find(' ', b);
      out.push_back(rest.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
      b = e;
    }
    return out;
  };
  if (line.substr(0, 8) == "refused ") {
    if (auto n = ParseInteger<int>(Trim(line.substr(8)))) view.refused_commands = *n;
  } else if (line.substr(0, 8) == "threads ") {
    std::string_view v = Trim(line.substr(8));
    if (!v.empty() && v.find_first_not_of("0123456789.") == std::string_view::npos) view.default_threads = std::string(v);
  } else if (line.substr(0, 7) == "server ") {
    auto w = words(line.substr(7));
    if (w.empty()) return;
    auto pid = ParseInteger<int>(w[0]);
    if (!pid) return;
    DaemonView::Server server{*pid, {}};
    for (size_t i = 1; i < w.size(); ++i) {
      auto c = ParseInteger<int>(w[i]);
      if (!c) return;  // not a client list: ignore the line
      server.clients.push_back(*c);
    }
    view.servers.push_back(std::move(server));
  }
}

void MapClientPods(const std::vector<std::pair<int, std::string>>& client_containers, std::string_view crictl_json,
                   DaemonView& view) {
  if (client_containers.empty()) return;
  auto j = nlohmann::json::parse(crictl_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("containers") || !j["containers"].is_array()) return;
  std::map<std::string, std::string> pod_of;  // container id -> namespace/pod
  for (const auto& c : j["containers"]) {
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !c.contains("labels") ||
        !c["labels"].is_object()) {
      continue;
    }
    const auto& labels = c["labels"];
    auto label = [&](const char* key) {
      return labels.contains(key) && labels[key].is_string() ? labels[key].get<std::string>() : std::string();
    };
    std::string name = label("io.kubernetes.pod.name");
    if (name.empty()) continue;
    std::string ns = label("io.kubernetes.pod.namespace");
    pod_of[c["id"].get<std::string>()] = ns.empty() ? name : ns + "/" + name;
  }
  for (const auto& [pid, id] : client_containers) {
    auto it = pod_of.find(id);
    if (it != pod_of.end()) view.client_pods[pid] = it->second;
  }
}

bool ClusterStatus::healthy() const {
  if (!problems.empty() || nodes.empty()) return false;
  for (const auto& n : nodes) {
    if (!n.healthy()) return false;
  }
  return true;
}

Status ClusterStatus::AsStatus() const {
  if (healthy()) return Status::Ok();
  std::string first = problems.empty() ? "" : problems.front();
  for (const auto& n : nodes) {
    if (first.empty() && !n.problems.empty()) first = n.problems.front();
  }
  return Failed(fmt::format("cluster {} is unhealthy: {}", cluster, first.empty() ? "no nodes" : first));
}

namespace {

// A daemon's "control" object: whether it runs, its pid, and what it says of itself.
nlohmann::json DaemonJson(std::optional<int> pid, const DaemonView& view) {
  nlohmann::json control = {{"running", pid.has_value()}};
  control["pid"] = pid ? nlohmann::json(*pid) : nlohmann::json(nullptr);
  control["defaultActiveThreadPercentage"] =
      view.default_threads ? nlohmann::json(*view.default_threads) : nlohmann::json(nullptr);
  control["refusedCommands"] = view.refused_commands ? nlohmann::json(*view.refused_commands) : nlohmann::json(nullptr);
  return control;
}

// Per server the daemon lists, its clients and their Pods (null where unknown).
nlohmann::json ClientsJson(const DaemonView& view) {
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& ds : view.servers) {
    nlohmann::json pods = nlohmann::json::array();
    for (int pid : ds.clients) {
      auto it = view.client_pods.find(pid);
      pods.push_back(it == view.client_pods.end() ? nlohmann::json(nullptr) : nlohmann::json(it->second));
    }
    clients.push_back({{"server", ds.pid}, {"clients", ds.clients}, {"pods", pods}});
  }
  return clients;
}

}  // namespace

nlohmann::json ClusterStatus::ToJson() const {
  nlohmann::json jnodes = nlohmann::json::array();
  for (const auto& n : nodes) {
    nlohmann::json servers = nlohmann::json::array();
    for (const auto& s : n.mps.servers) servers.push_back({{"pid", s.pid}, {"ppid", s.ppid}});
    nlohmann::json control = DaemonJson(n.mps.control ? std::optional<int>(n.mps.control->pid) : std::nullopt, n.daemon);
    nlohmann::json clients = ClientsJson(n.daemon);
    jnodes.push_back({{"name", n.node.name},
                      {"role", n.node.role},
                      {"running", n.node.running},
                      {"gpu", n.node.gpu},
                      {"shmBytes", n.shm_bytes ? nlohmann::json(*n.shm_bytes) : nlohmann::json(nullptr)},
                      {"pipeSocket", n.pipe_socket},
                      {"mpsAccess", n.node.gpu ? nlohmann::json(n.mps_access()) : nlohmann::json(nullptr)},
                      {"mps", {{"control", control}, {"servers", servers}, {"clients", clients}}},
                      {"healthy", n.healthy()},
                      {"problems", n.problems}});
    // A GPU node: the GPUs (device minors) it has; given GPUs of its own, also those it was given.
    if (n.node.gpu) jnodes.back()["gpus"] = n.gpus;
    if (n.assigned_gpus) jnodes.back()["assignedGpus"] = *n.assigned_gpus;
    // mps.daemons perGpu: each GPU's daemon, as `mps` under the node describes the node's one.
    if (!n.gpu_daemons.empty()) {
      nlohmann::json daemons = nlohmann::json::array();
      for (const auto& d : n.gpu_daemons) {
        nlohmann::json dservers = nlohmann::json::array();
        for (const auto& sv : d.daemon.servers) dservers.push_back({{"pid", sv.pid}});
        daemons.push_back({{"gpu", d.gpu},
                           {"pipeDirectory", d.pipe_directory},
                           {"pipeSocket", d.pipe_socket},
                           {"control", DaemonJson(d.pid, d.daemon)},
                           {"servers", dservers},
                           {"clients", ClientsJson(d.daemon)}});
      }
      jnodes.back()["daemons"] = daemons;
    }
  }
  return {{"apiVersion", config::kConfigApiVersion}, {"kind", "ClusterStatus"}, {"cluster", cluster},
          {"healthy", healthy()}, {"nodes", jnodes}, {"problems", problems}, {"notes", notes}};
}

namespace {

// A daemon counts when it serves its pipe directory: its control socket is there and answers
// (the probe's query through it), as `kindmps-api mps` would find it; and, where a server is
// wanted, the process table has one (`servers`) and the daemon lists it.
void JudgeDaemon(const std::string& where, int pid, bool socket, const DaemonView& daemon, size_t servers,
                 const std::string& pipe, const config::ClusterConfig& config, std::vector<std::string>& problems) {
  if (!socket) {
    problems.push_back(fmt::format("{}: the MPS control daemon (pid {}) has no control socket {}/control "
                                   "(deleted, or the daemon serves another pipe directory); kindmps-api up "
                                   "restarts it",
                                   where, pid, pipe));
  } else if (!daemon.answered()) {
    problems.push_back(fmt::format("{}: no MPS control daemon answers on {}/control", where, pipe));
  } else if (config.mps.start_server && (servers == 0 || daemon.servers.empty())) {
    problems.push_back(fmt::format("{}: {} (kindmps-api up starts one)", where,
                                   servers == 0 ? "no MPS server runs"
                                                : "the MPS server is not ready: the daemon lists none"));
  }
}

}  // namespace

std::vector<std::string> JudgeNode(const NodeStatus& s, const config::ClusterConfig& config) {
  std::vector<std::string> problems;
  if (s.node.paused) {
    problems.push_back(fmt::format("node {} is paused (docker unpause {})", s.node.name, s.node.name));
    return problems;
  }
  if (!s.node.running) {
    problems.push_back(fmt::format("node {} is not running (docker start {}, or kindmps-api up --recreate)",
                                   s.node.name, s.node.name));
    return problems;
  }
  if (!s.node.gpu) return problems;
  if (s.assigned_gpus && s.gpus != *s.assigned_gpus) {
    problems.push_back(fmt::format("node {} has the device nodes of GPUs [{}], but was given [{}] (gpus): "
                                   "kindmps-api up masks the others again",
                                   s.node.name, fmt::join(s.gpus, ", "), fmt::join(*s.assigned_gpus, ", ")));
  }
  if (!s.shm_bytes) {
    problems.push_back(fmt::format("node {}: /dev/shm size unknown", s.node.name));
  } else if (*s.shm_bytes < config.shm_bytes) {
    problems.push_back(fmt::format("node {}: /dev/shm is {} bytes, wanted {} ({})", s.node.name, *s.shm_bytes,
                                   config.shm_bytes, config.shm_size));
  }
  if (config.mps.daemons == config::MpsSettings::Daemons::kPerGpu) {
    if (s.gpus.empty()) {
      problems.push_back(fmt::format("node {} has no /dev/nvidiaN for a per-GPU MPS daemon (mps.daemons perGpu)",
                                     s.node.name));
    }
    for (int m : s.gpus) {
      auto d = std::find_if(s.gpu_daemons.begin(), s.gpu_daemons.end(), [&](const auto& x) { return x.gpu == m; });
      std::string where = fmt::format("node {} GPU {}", s.node.name, m);
      std::string pipe = config::GpuPipeDirectory(config.mps.pipe_directory, m);
      if (d == s.gpu_daemons.end() || !d->pid) {
        problems.push_back(fmt::format("{}: no MPS control daemon runs for it in {} (kindmps-api up starts one)",
                                       where, pipe));
        continue;
      }
      // Its pid and its servers' are the node's (read in the node; the process table's are the
      // host's): the servers it lists, where the process table has any.
      JudgeDaemon(where, *d->pid, d->pipe_socket, d->daemon, s.mps.servers.empty() ? 0 : d->daemon.servers.size(), pipe,
                  config, problems);
    }
    return problems;
  }
  if (!s.mps.control) {
    problems.push_back(fmt::format("node {}: no MPS control daemon runs (kindmps-api up starts one)", s.node.name));
  } else {
    JudgeDaemon(fmt::format("node {}", s.node.name), s.mps.control->pid, s.pipe_socket, s.daemon, s.mps.servers.size(),
                config.mps.pipe_directory, config, problems);
  }
  return problems;
}

std::vector<std::string> ShapeProblems(const std::vector<std::string>& nodes, const config::ClusterConfig& config) {
  std::vector<std::string> problems;
  std::vector<std::string> want = config::NodeNames(config);
  for (const auto& name : want) {
    if (std::find(nodes.begin(), nodes.end(), name) == nodes.end()) {
      problems.push_back(fmt::format("node {} of cluster {} is missing (removed?); kindmps-api up --recreate makes "
                                     "the cluster again",
                                     name, config.name));
    }
  }
  for (const auto& n : nodes) {
    if (std::find(want.begin(), want.end(), n) == want.end()) {
      problems.push_back(fmt::format("node {} is not one of cluster {}'s {} saved node{} ({}); kindmps-api up "
                                     "--recreate makes the cluster again",
                                     n, config.name, want.size(), want.size() == 1 ? "" : "s",
                                     fmt::join(want, ", ")));
    }
  }
  return problems;
}

namespace {

// The two reads of a running node, independent of each other so that they can run at the same
// time: the process table, and one exec for /proc/mounts and the pipe socket.
void ReadProcessesInto(node::Node& node, NodeStatus& s) {
  auto processes = mps::ReadProcesses(node);
  if (processes.ok()) {
    s.mps = *processes;
  } else {
    s.problems.push_back(
        fmt::format("node {}: cannot read processes: {}", s.node.name, processes.status().message()));
  }
}

void ReadProbeInto(node::Node& node, NodeStatus& s, const config::ClusterConfig& config) {
  node::Command probe;
  // The daemon's refusal lines are counted by the phrases mps::ClassifyReply knows them by.
  static const std::string script = [] {
    std::string body(kProbeScript);
    auto put = [&](std::string_view mark, std::string_view text) { body.replace(body.find(mark), mark.size(), text); };
    put("@REFUSED_SETTINGS@", mps::kRefusedSettings);
    put("@REFUSED_COMMAND@", mps::kRefusedCommand);
    return mps::NodeScript(body);
  }();
  bool per_gpu = config.mps.daemons == config::MpsSettings::Daemons::kPerGpu;
  probe.argv = {"sh", "-c", script, "kmps-status", config.mps.pipe_directory, kCdiSpecPath, kDevicePluginSocket,
                config.mps.log_directory, per_gpu ? "perGpu" : ""};
  probe.env = mps::MpsEnvironment(config.mps);
  probe.timeout = std::chrono::seconds(20);
  auto r = node.Run(probe);
  if (r.ok() && r->exit_code == 0) {
    size_t sep = r->out.find(kSeparator);
    std::string_view mounts = std::string_view(r->out).substr(0, sep);
    s.shm_bytes = ParseShmBytes(mounts);
    if (sep != std::string::npos) {
      std::string_view rest = std::string_view(r->out).substr(sep + kSeparator.size());
      size_t csep = rest.find(kCrictlSeparator);
      std::string_view crictl = csep == std::string_view::npos ? "" : rest.substr(csep + kCrictlSeparator.size());
      // Lines belong to the node's daemon, or (perGpu) to the GPU's of the last "daemon N" line.
      bool* socket = &s.pipe_socket;
      DaemonView* view = &s.daemon;
      std::vector<std::pair<int, std::string>> containers;
      std::vector<std::vector<std::pair<int, std::string>>> gpu_containers;
      ForEachLine(rest.substr(0, csep), [&](std::string_view line) {
        if (line == "cdi") s.cdi_spec = true;
        if (line == "plugin") s.device_plugin = true;
        if (line.substr(0, 4) == "gpus") s.gpus = ParseGpuMinors(line.substr(4));
        if (line.substr(0, 7) == "daemon ") {
          auto m = ParseInteger<int>(line.substr(7));
          if (!m) return;
          s.gpu_daemons.push_back({*m, config::GpuPipeDirectory(config.mps.pipe_directory, *m), {}, false, {}});
          gpu_containers.emplace_back();
          socket = &s.gpu_daemons.back().pipe_socket;
          view = &s.gpu_daemons.back().daemon;
          return;
        }
        if (line.substr(0, 4) == "pid " && !s.gpu_daemons.empty()) {
          s.gpu_daemons.back().pid = ParseInteger<int>(line.substr(4));
        }
        if (line == "socket") *socket = true;
        if (line.substr(0, 7) == "client ") {
          std::string_view w = line.substr(7);
          size_t sp = w.find(' ');
          auto pid = ParseInteger<int>(w.substr(0, sp));
          if (pid && sp != std::string_view::npos) {
            (gpu_containers.empty() ? containers : gpu_containers.back()).emplace_back(*pid, std::string(w.substr(sp + 1)));
          }
        }
        ParseDaemonLine(line, *view);
      });
      MapClientPods(containers, crictl, s.daemon);
      for (size_t i = 0; i < s.gpu_daemons.size(); ++i) MapClientPods(gpu_containers[i], crictl, s.gpu_daemons[i].daemon);
    }
  } else {
    s.problems.push_back(fmt::format("node {}: cannot read /proc/mounts: {}", s.node.name,
                                     r.ok() ? fmt::format("exit {}", r->exit_code) : r.status().message()));
  }
}

}  // namespace

NodeStatus ReadNodeStatus(node::Node& node, const config::ClusterConfig& config) {
  NodeStatus s;
  s.node = node.info();
  if (s.node.running) {
    // The exec on a connection of its own, beside the `top`: the slower read sets the time.
    NodeStatus probe;
    probe.node = s.node;
    auto fork = node.Fork();
    if (!fork.ok()) {
      s.problems.push_back(fmt::format("node {}: {}", s.node.name, fork.status().message()));
    } else {
      auto both = node::ParallelFor(2, [&](size_t i) {
        if (i == 0) {
          ReadProcessesInto(node, s);
        } else {
          ReadProbeInto(**fork, probe, config);
        }
        return Status::Ok();
      });
      s.shm_bytes = probe.shm_bytes;
      s.pipe_socket = probe.pipe_socket;
      s.cdi_spec = probe.cdi_spec;
      s.device_plugin = probe.device_plugin;
      s.daemon = probe.daemon;
      s.gpu_daemons = probe.gpu_daemons;
      s.gpus = probe.gpus;
      s.problems.insert(s.problems.end(), probe.problems.begin(), probe.problems.end());
    }
  }
  auto judged = JudgeNode(s, config);
  s.problems.insert(s.problems.end(), judged.begin(), judged.end());
  return s;
}

std::vector<int> ParseGpuMinors(std::string_view words) {
  std::vector<int> minors;
  for (std::string_view w : Split(Trim(words), ' ')) {
    if (auto m = ParseInteger<int>(w)) minors.push_back(*m);
  }
  std::sort(minors.begin(), minors.end());
  return minors;
}

void GpuAssignmentProblems(ClusterStatus& status, const config::ClusterConfig& config) {
  using Mode = config::GpuAssignment::Mode;
  if (config.gpus.mode == Mode::kAll) return;
  std::map<int, std::string> seen;  // minor -> the node that has it
  for (auto& n : status.nodes) {
    if (!n.node.gpu || !n.node.running) continue;
    std::vector<int> want;  // the minors that are known without the host: gpus by minor
    size_t count = 1;
    if (config.gpus.mode == Mode::kPerNode) {
      count = 0;
      for (const auto& [node, refs] : config.gpus.per_node) {
        if (node != n.node.name) continue;
        count = refs.size();
        for (const auto& r : refs) {
          if (auto m = ParseInteger<int>(r)) want.push_back(*m);
        }
      }
    }
    std::string why;
    if (n.gpus.size() != count) {
      why = fmt::format("has the device nodes of {} GPU{} [{}], but was given {} (gpus {})", n.gpus.size(),
                        n.gpus.size() == 1 ? "" : "s", fmt::join(n.gpus, ", "), count,
                        config::GpuAssignmentText(config.gpus));
    }
    for (int m : want) {
      if (why.empty() && std::find(n.gpus.begin(), n.gpus.end(), m) == n.gpus.end()) {
        why = fmt::format("lacks /dev/nvidia{}, its GPU (gpus {})", m, config::GpuAssignmentText(config.gpus));
      }
    }
    for (int m : n.gpus) {
      auto [it, fresh] = seen.emplace(m, n.node.name);
      if (!fresh && why.empty()) why = fmt::format("has /dev/nvidia{}, which is node {}'s too", m, it->second);
    }
    if (!why.empty()) n.problems.push_back(fmt::format("node {} {}: kindmps-api up gives each its own again", n.node.name, why));
  }
}

std::string SharedGpuNote(size_t gpu_nodes) {
  if (gpu_nodes < 2) return "";
  return fmt::format("{} GPU nodes share this host's GPUs, each with its own MPS daemon and server: the GPU "
                     "time-slices between the servers, so Pods on different nodes do not run side by side (on an "
                     "H200: 3,200 small kernels/s per client instead of 32,000); put the Pods that should share a "
                     "GPU through MPS on one node",
                     gpu_nodes);
}

ClusterStatus NoNodesStatus(const config::ClusterConfig& config) {
  ClusterStatus status;
  status.cluster = config.name;
  status.problems.push_back(fmt::format("no node containers of cluster {} (label {}={})", config.name,
                                        node::kClusterLabel, config.name));
  return status;
}

ClusterStatus ReadClusterStatus(node::NodeList& nodes, const config::ClusterConfig& config) {
  if (nodes.empty()) return NoNodesStatus(config);
  ClusterStatus status;
  status.cluster = config.name;
  status.nodes.resize(nodes.size());
  node::ParallelFor(nodes.size(), [&](size_t i) {
    status.nodes[i] = ReadNodeStatus(*nodes[i], config);
    return Status::Ok();
  });
  GpuAssignmentProblems(status, config);
  size_t daemons = 0;
  for (const auto& n : status.nodes) daemons += n.node.gpu && n.mps.control ? 1 : 0;
  // Nodes given GPUs of their own (gpus: onePerNode, or per node) share none.
  if (std::string note = SharedGpuNote(daemons);
      !note.empty() && config.gpus.mode == config::GpuAssignment::Mode::kAll) {
    status.notes.push_back(note);
  }
  return status;
}

StatusOr<ClusterStatus> CollectStatus(node::Provider& provider, const config::ClusterConfig& config) {
  KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, ListClusterNodes(provider, config));
  return ReadClusterStatus(nodes, config);
}

}  // namespace kmps::cluster
