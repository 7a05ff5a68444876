#include "cluster/prepare_node.h"

#include <algorithm>
#include <cctype>

#include <thread>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cluster/cdi_spec.h"
#include "cluster/shm.h"
#include "common/deadline.h"
#include "common/text.h"
#include "mps/mps_control.h"

namespace kmps::cluster {
namespace {

using std::chrono::milliseconds;

// $1: /dev/shm's wanted size in bytes; $2: the deadline of each MPS command in the node, in
// seconds; $3: the uid of the server to start, empty for none; $4: where the CDI spec goes; $5:
// the spec, empty for none (written last, once MPS runs, and only when it changed); $6...:
// control commands to send (the settings). The pipe and log directories come in the environment, as every MPS exec has
// them. It reports on stdout in lines "kmps: ...", and stops at the first failure with
// "kmps: fail <step> [<index>] <exit>" and the step's output on stderr; last come whether the
// control socket exists and /proc/mounts.
constexpr const char* kPrepareScript = R"sh(want=$1 t=$2 uid=$3 cdi=$4 spec=$5; shift 5
pipe=$CUDA_MPS_PIPE_DIRECTORY log=$CUDA_MPS_LOG_DIRECTORY plugin=$KMPS_DEVICE_PLUGIN_SOCKET
say() { printf 'kmps: %s\n' "$*"; }
fail() { say "fail $*"; exit 0; }
send() { out=$(kmps_mps "$1" "$t" 2>&1); rc=$?; }
refused() { case $out in *"Cannot send command to MPS control daemon process"*) return 0;; esac; return 1; }
try() { n=1; send "$1"; while refused && [ $n -lt 4 ]; do sleep 0.25 2>/dev/null || sleep 1; n=$((n+1)); send "$1"; done; }
bad() {
  case $out in *"Cannot find MPS control daemon process"*|*"Cannot send command to MPS control daemon process"*|"Unknown command"*) return 0;; esac
  [ "$rc" != 0 ]
}
if ! awk -v want="$want" '$2 == "/dev/shm" { cur = -1; n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] ~ /^size=/) { v = substr(o[i], 6); m = 1; u = substr(v, length(v)); if (u ~ /[kK]/) m = 1024; else if (u ~ /[mM]/) m = 1048576; else if (u ~ /[gG]/) m = 1073741824; if (m > 1) v = substr(v, 1, length(v) - 1); cur = v * m } } END { exit !(cur >= want) }' /proc/mounts; then
  out=$(mount -o remount,size="$want" /dev/shm 2>&1) || { rc=$?; printf '%s\n' "$out" >&2; fail shm $rc; }
  say shm resized
fi
out=$(mkdir -p "$pipe" "$log" 2>&1) || { rc=$?; printf '%s\n' "$out" >&2; fail dirs $rc; }
# The GPUs that are not this node's: their device nodes go (a mount is unmounted first).
if [ -n "${KMPS_KEEP_GPUS+x}" ]; then
  for d in /dev/nvidia[0-9]*; do
    [ -e "$d" ] || continue
    m=${d#/dev/nvidia}
    case " $KMPS_KEEP_GPUS " in *" $m "*) continue ;; esac
    umount "$d" 2>/dev/null
    out=$(rm -f "$d" 2>&1) || { rc=$?; printf '%s\n' "$out" >&2; fail mask $rc; }
    say masked "$m"
  done
fi
start() { out=$(kmps_run "$t" nvidia-cuda-mps-control -d 2>&1); rc=$?; }
ours() {
  for p in /proc/[0-9]*; do
    [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "nvidia-cuda-mps-control -d " ] || continue
    d=$(tr '\0' '\n' <"$p/environ" 2>/dev/null | sed -n 's/^CUDA_MPS_PIPE_DIRECTORY=//p')
    [ "${d:-/tmp/nvidia-mps}" = "$pipe" ] && printf '%s ' "${p#/proc/}"
  done
}
start
case $out in
  *"An instance of this daemon is already running"*)
    if [ -S "$pipe/control" ]; then
      say daemon running
    else
      # Its control socket is gone (deleted): no command reaches it any more, so the daemon of
      # this pipe directory is stopped (TERM, then KILL) and started again.
      stale=$(ours)
      [ -n "$stale" ] && kill $stale 2>/dev/null
      n=0; while [ -n "$(ours)" ] && [ $n -lt 20 ]; do sleep 0.1 2>/dev/null || sleep 1; n=$((n+1)); done
      [ -n "$(ours)" ] && kill -9 $(ours) 2>/dev/null && sleep 0.2 2>/dev/null
      start
      [ "$rc" = 0 ] || { printf '%s' "$out" >&2; fail daemon $rc; }
      say daemon restarted
    fi ;;
  *) [ "$rc" = 0 ] || { printf '%s' "$out" >&2; fail daemon $rc; }; say daemon started ;;
esac
i=0
for c in "$@"; do
  try "$c"; if bad; then printf '%s' "$out" >&2; fail command $i $rc; fi
  i=$((i+1))
done
try get_default_active_thread_percentage; if bad; then printf '%s' "$out" >&2; fail readback $rc; fi
say threads $out
for c in "$@"; do
  case $c in
    "set_default_device_pinned_mem_limit "*)
      d=${c#set_default_device_pinned_mem_limit }; d=${d%% *}
      try "get_default_device_pinned_mem_limit $d"; if bad; then printf '%s' "$out" >&2; fail pinned $rc; fi
      say pinned "$d" $out ;;
  esac
done
if [ -z "$uid" ]; then
  say server none
else
  try get_server_list; if bad; then printf '%s' "$out" >&2; fail list $rc; fi
  if [ -n "$out" ]; then
    say server running
  else
    try "start_server -uid $uid"
    case $rc in
      137|124) say server timeout ;;
      *) if bad; then printf '%s' "$out" >&2; fail start $rc; fi; say server started ;;
    esac
  fi
fi
if [ -n "$spec" ]; then
  if [ "$(cat "$cdi" 2>/dev/null)" = "$(printf '%s' "$spec")" ]; then
    say cdi kept
  else
    out=$({ mkdir -p "${cdi%/*}" && printf '%s' "$spec" >"$cdi.tmp" && mv -f "$cdi.tmp" "$cdi"; } 2>&1) ||
      { rc=$?; printf '%s\n' "$out" >&2; fail cdi $rc; }
    say cdi written
  fi
fi
g=; for d in /dev/nvidia[0-9]*; do [ -e "$d" ] && g="$g ${d#/dev/nvidia}"; done
say gpus$g
[ -S "$pipe/control" ] && say socket
[ -S "$plugin" ] && say plugin
say mounts
cat /proc/mounts)sh";

constexpr std::string_view kPrefix = "kmps: ";
constexpr std::string_view kMounts = "kmps: mounts\n";

// The failure of step `words` ("shm 32", "command 1 1", ...) with its output `err`.
Status StepFailure(const std::string& node, const std::vector<std::string_view>& words, const std::string& err,
                   const config::ClusterConfig& config, milliseconds timeout) {
  std::string_view step = words.empty() ? "" : words[0];
  int rc = words.empty() ? -1 : ParseInteger<int>(words.back()).value_or(-1);
  const config::MpsSettings& mps = config.mps;
  if (step == "shm") {
    return Failed(fmt::format("cannot resize /dev/shm in node {} to {} bytes (exit {}): {} (the node needs "
                              "CAP_SYS_ADMIN)",
                              node, config.shm_bytes, rc, OneLine(err)));
  }
  if (step == "dirs") {
    return Failed(fmt::format("cannot create {} and {} in node {}: {}", mps.pipe_directory, mps.log_directory, node,
                              OneLine(err)));
  }
  if (step == "daemon") return mps::DaemonStartError(node, rc, err);
  if (step == "mask") {
    return Failed(fmt::format("cannot remove the device nodes of the GPUs that are not node {}'s (exit {}): {}", node,
                              rc, OneLine(err)));
  }
  if (step == "cdi") {
    return Failed(fmt::format("cannot write the CDI spec {} in node {} (exit {}): {}", kCdiSpecPath, node, rc,
                              OneLine(err)));
  }
  std::string command;
  if (step == "command" && words.size() == 3) {
    auto commands = ControlCommands(mps);
    size_t i = static_cast<size_t>(ParseInteger<int>(words[1]).value_or(-1));
    if (i < commands.size()) command = commands[i];
  } else if (step == "list") {
    command = "get_server_list";
  } else if (step == "readback") {
    command = "get_default_active_thread_percentage";
  } else if (step == "pinned") {
    command = "get_default_device_pinned_mem_limit";
  } else if (step == "start") {
    command = fmt::format("start_server -uid {}", mps.server_uid);
  }
  if (command.empty()) return ProtocolError(fmt::format("node {}: the setup script said '{}'", node, fmt::join(words, " ")));
  auto reply = mps::ReplyOf(node, command, node::CommandResult{rc, "", err}, timeout);
  return reply.ok() ? Failed(fmt::format("MPS command '{}' in node {} failed (exit {})", command, node, rc))
                    : reply.status();
}

}  // namespace

std::vector<std::string> ControlCommands(const config::MpsSettings& settings) {
  std::vector<std::string> commands;
  if (settings.default_active_thread_percentage) {
    commands.push_back(
        fmt::format("set_default_active_thread_percentage {}", *settings.default_active_thread_percentage));
  }
  for (const auto& limit : settings.pinned_device_memory_limits) {
    commands.push_back(fmt::format("set_default_device_pinned_mem_limit {} {}", limit.device, limit.limit));
  }
  return commands;
}

node::Command PrepareNodeCommand(const config::ClusterConfig& config, const std::string& cdi_spec,
                                 milliseconds timeout, const GpuPlan& gpus) {
  long seconds = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
  std::vector<std::string> commands = ControlCommands(config.mps);
  node::Command c;
  static const std::string script = mps::NodeScript(kPrepareScript);
  c.argv = {"sh", "-c", script, "kmps-prepare", std::to_string(config.shm_bytes), std::to_string(seconds),
            config.mps.start_server ? std::to_string(config.mps.server_uid) : "", kCdiSpecPath, cdi_spec};
  c.argv.insert(c.argv.end(), commands.begin(), commands.end());
  c.env = mps::MpsEnvironment(config.mps);
  c.env.push_back(fmt::format("KMPS_DEVICE_PLUGIN_SOCKET={}", kDevicePluginSocket));
  if (!gpus.all) c.env.push_back(fmt::format("KMPS_KEEP_GPUS={}", fmt::join(gpus.keep, " ")));
  // The daemon, and the servers it starts, serve these GPUs only (by UUID: indices renumber).
  if (!gpus.visible_devices.empty()) c.env.push_back("CUDA_VISIBLE_DEVICES=" + gpus.visible_devices);
  // Each MPS command may be tried 4 times (transient refusals); the client's deadline leaves the
  // node's `timeout` time to fire first.
  size_t sends = 1 + 4 * (commands.size() + 2);
  c.timeout = timeout * static_cast<long>(sends) + milliseconds(5000);
  return c;
}

StatusOr<PrepareReport> ParsePrepareResult(const std::string& node, const node::CommandResult& result,
                                           const config::ClusterConfig& config, milliseconds timeout) {
  if (result.exit_code != 0) {
    return Failed(fmt::format("cannot run the MPS setup in node {} (exit {}): {}", node, result.exit_code,
                              OneLine(result.err.empty() ? result.out : result.err)));
  }
  PrepareReport report;
  size_t mounts = result.out.find(kMounts);
  std::string_view lines = std::string_view(result.out).substr(0, mounts);
  Status failed = Status::Ok();
  ForEachLine(lines, [&](std::string_view line) {
    if (line.substr(0, kPrefix.size()) != kPrefix || !failed.ok()) return;
    line.remove_prefix(kPrefix.size());
    std::vector<std::string_view> words;
    for (size_t b = 0, e; b < line.size(); b = e + 1) {
      e = line.find(' ', b);
      if (e == std::string_view::npos) e = line.size();
      words.push_back(line.substr(b, e - b));
    }
    if (words.empty()) return;
    if (words[0] == "fail") {
      failed = StepFailure(node, {words.begin() + 1, words.end()}, result.err, config, timeout);
    } else if (words[0] == "shm") {
      report.shm_resized = true;
    } else if (words[0] == "daemon" && words.size() == 2) {
      report.daemon_started = words[1] == "started" || words[1] == "restarted";
      report.daemon_restarted = words[1] == "restarted";
    } else if (words[0] == "server" && words.size() == 2) {
      report.server = std::string(words[1]);
    } else if (words[0] == "socket") {
      report.pipe_socket = true;
    } else if (words[0] == "cdi" && words.size() == 2) {
      report.cdi = std::string(words[1]);
    } else if (words[0] == "masked" && words.size() == 2) {
      if (auto m = ParseInteger<int>(words[1])) report.masked.push_back(*m);
    } else if (words[0] == "gpus") {
      report.gpus = ParseGpuMinors(line.substr(words[0].size()));
    } else if (words[0] == "plugin") {
      report.device_plugin = true;
    } else if (words[0] == "threads" && words.size() == 2) {
      report.threads = std::string(words[1]);
    } else if (words[0] == "pinned" && words.size() >= 2) {
      report.pinned[std::string(words[1])] = words.size() == 3 ? std::string(words[2]) : "";
    }
  });
  KMPS_RETURN_IF_ERROR(failed);
  if (mounts == std::string::npos) {
    return ProtocolError(fmt::format("node {}: the MPS setup ended early: {}", node, OneLine(result.out + result.err)));
  }
  // Enforcement checked, not assumed: the daemon's own answer after the settings were sent.
  const auto& want = config.mps.default_active_thread_percentage;
  if (want) {
    char* end = nullptr;
    double got = report.threads.empty() ? -1 : std::strtod(report.threads.c_str(), &end);
    if (report.threads.empty() || *end != '\0' || std::abs(got - *want) > 1e-6) {
      return Failed(fmt::format("node {}: the MPS control daemon reports default active thread percentage '{}' "
                                "after set_default_active_thread_percentage {} (settings apply to servers started "
                                "after them: kindmps-api up --recreate starts afresh)",
                                node, report.threads, *want));
    }
  }
  // Likewise each pinned-memory limit: the real daemon answers get_default_device_pinned_mem_limit
  // DEV with the limit as set ("2G", H200, driver 580), nothing where none is set.
  auto upper = [](std::string v) {
    for (char& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return v;
  };
  for (const auto& limit : config.mps.pinned_device_memory_limits) {
    auto it = report.pinned.find(limit.device);
    std::string got = it == report.pinned.end() ? "" : it->second;
    if (upper(got) != upper(limit.limit)) {
      return Failed(fmt::format("node {}: the MPS control daemon reports pinned memory limit '{}' for device {} after "
                                "set_default_device_pinned_mem_limit {} {} (settings apply to servers started after "
                                "them: kindmps-api up --recreate starts afresh)",
                                node, got, limit.device, limit.device, limit.limit));
    }
  }
  report.shm_bytes = ParseShmBytes(std::string_view(result.out).substr(mounts + kMounts.size()));
  if (!report.shm_bytes) return Failed(fmt::format("node {} has no sized /dev/shm mount in /proc/mounts", node));
  if (*report.shm_bytes < config.shm_bytes) {
    return Failed(fmt::format("/dev/shm in node {} is {} bytes after remount, wanted {}", node, *report.shm_bytes,
                              config.shm_bytes));
  }
  return report;
}

StatusOr<Prepared> PrepareNode(node::Node& node, const config::ClusterConfig& config, const std::string& cdi_spec,
                               milliseconds timeout, const GpuPlan& gpus) {
  std::vector<DaemonPlan> daemons = gpus.daemons;
  if (daemons.empty()) daemons.push_back({std::nullopt, config.mps, gpus.visible_devices});
  bool per_gpu = daemons.front().gpu.has_value();
  std::vector<PrepareReport> reports;
  for (size_t i = 0; i < daemons.size(); ++i) {
    config::ClusterConfig one = config;
    one.mps = daemons[i].mps;
    GpuPlan plan = gpus;
    plan.visible_devices = daemons[i].visible_devices;
    // The CDI spec with the last daemon, once every daemon it names runs.
    const std::string& spec = i + 1 == daemons.size() ? cdi_spec : "";
    std::string label = daemons[i].gpu ? fmt::format("{} (GPU {})", node.name(), *daemons[i].gpu) : node.name();
    KMPS_ASSIGN_OR_RETURN(node::CommandResult ran, node.Run(PrepareNodeCommand(one, spec, timeout, plan)));
    KMPS_ASSIGN_OR_RETURN(PrepareReport report, ParsePrepareResult(label, ran, one, timeout));
    reports.push_back(std::move(report));
  }
  const PrepareReport& last = reports.back();
  bool want_server = config.mps.start_server;
  // Whether the process table shows daemon i, and a server of its: as many daemons (and
  // servers) as were prepared. Which is whose is read in the node (below): the table's PIDs are
  // the host's.
  auto has_daemon = [&](const mps::MpsProcesses& p, size_t i) { return p.controls.size() > (per_gpu ? i : 0); };
  auto has_server = [&](const mps::MpsProcesses& p, size_t i) { return p.servers.size() > (per_gpu ? i : 0); };
  // One `top` shows them all at once, as a rule; a daemon or server that is still starting is
  // waited for (bounded). A start_server that did not answer is judged by the process table alone.
  bool timed_out = std::any_of(reports.begin(), reports.end(), [](const auto& r) { return r.server == "timeout"; });
  Deadline deadline = Deadline::In(timed_out ? milliseconds(2000) : timeout);
  milliseconds interval(100);
  mps::MpsProcesses processes;
  for (;;) {
    KMPS_ASSIGN_OR_RETURN(processes, mps::ReadProcesses(node));
    bool ready = true;
    for (size_t i = 0; i < reports.size(); ++i) ready = ready && has_daemon(processes, i) && (!want_server || has_server(processes, i));
    if (ready || deadline.Expired()) break;
    std::this_thread::sleep_for(std::min(interval, deadline.Remaining()));
    interval = std::min(interval * 2, milliseconds(500));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    const config::MpsSettings& mps = daemons[i].mps;
    std::string where = daemons[i].Where(node.name());
    if (!has_daemon(processes, i)) {
      return Failed(fmt::format("nvidia-cuda-mps-control -d returned but no daemon shows in {}'s processes (see "
                                "{}/control.log in the node)",
                                where, mps.log_directory));
    }
    if (want_server && !has_server(processes, i)) {
      std::string command = fmt::format("start_server -uid {}", mps.server_uid);
      if (reports[i].server == "timeout") {
        return mps::ReplyOf(node.name(), command, node::CommandResult{137, "", ""}, timeout).status();
      }
      return Failed(fmt::format("{} returned but no nvidia-cuda-mps-server shows in {} (see {}/server.log in the "
                                "node)",
                                command, where, mps.log_directory));
    }
  }
  Prepared prepared;
  prepared.status.node = node.info();
  prepared.status.shm_bytes = last.shm_bytes;
  prepared.status.cdi_spec = !last.cdi.empty();
  prepared.status.device_plugin = last.device_plugin;
  prepared.status.mps = processes;
  prepared.status.gpus = last.gpus;
  if (!gpus.all) prepared.status.assigned_gpus = gpus.keep;
  // Each daemon answered on its pipe directory's socket (the script's read-back), and listed or
  // started the server the process table shows.
  std::vector<std::string> daemon_notes;
  auto how = [](const PrepareReport& r) {
    return r.daemon_restarted ? "restarted: its control socket was gone" : r.daemon_started ? "started" : "already running";
  };
  if (per_gpu) {
    // Each GPU's daemon as `status` reads it (its socket, its answer, its servers), waited for
    // while a server the daemon does not list yet is starting.
    Deadline ready = Deadline::In(timeout);
    for (;;) {
      NodeStatus read = ReadNodeStatus(node, config);
      read.assigned_gpus = prepared.status.assigned_gpus;
      read.problems = JudgeNode(read, config);
      prepared.status = std::move(read);
      if (prepared.status.healthy() || ready.Expired()) break;
      std::this_thread::sleep_for(std::min(milliseconds(200), ready.Remaining()));
    }
    for (size_t i = 0; i < reports.size(); ++i) {
      const GpuDaemonStatus* d = nullptr;
      for (const auto& x : prepared.status.gpu_daemons) d = x.gpu == *daemons[i].gpu ? &x : d;
      std::string server = !want_server ? "no server requested"
                           : d && !d->daemon.servers.empty() ? fmt::format("server pid {}", d->daemon.servers.front().pid)
                                                             : "no server yet";
      daemon_notes.push_back(fmt::format("GPU {} control daemon pid {} ({}), {}", *daemons[i].gpu,
                                         d && d->pid ? *d->pid : 0, how(reports[i]), server));
    }
  } else {
    prepared.status.pipe_socket = last.pipe_socket;
    if (!last.threads.empty()) prepared.status.daemon.default_threads = last.threads;
    for (const auto& sv : processes.servers) prepared.status.daemon.servers.push_back({sv.pid, {}});
    prepared.status.problems = JudgeNode(prepared.status, config);
    daemon_notes.push_back(fmt::format("control daemon pid {} ({}), {}", processes.control->pid, how(last),
                                       want_server ? fmt::format("server pid {}", processes.servers.front().pid)
                                                   : "no server requested"));
  }
  std::string gpu_note;
  if (!gpus.all) {
    gpu_note = fmt::format(", GPU{} {}", gpus.keep.size() == 1 ? "" : "s", fmt::join(gpus.keep, ","));
    std::vector<int> masked;
    for (const auto& r : reports) masked.insert(masked.end(), r.masked.begin(), r.masked.end());
    if (!masked.empty()) gpu_note += fmt::format(" (removed /dev/nvidia{{{}}})", fmt::join(masked, ","));
  }
  prepared.note = fmt::format("{}: /dev/shm {} MiB, {}{}", node.name(), *last.shm_bytes >> 20,
                              fmt::join(daemon_notes, "; "), gpu_note);
  return prepared;
}

}  // namespace kmps::cluster
