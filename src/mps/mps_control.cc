#include "mps/mps_control.h"

#include <charconv>
#include <thread>

#include <fmt/core.h>

#include "common/text.h"

namespace kmps::mps {
namespace {

using std::chrono::milliseconds;

// The fixed shell program; $1 is the command (data), $2 the in-node deadline in seconds.
constexpr const char* kSendScript =
    "if command -v timeout >/dev/null 2>&1; then "
    "printf '%s\\n' \"$1\" | timeout -s KILL \"$2\" nvidia-cuda-mps-control; "
    "else printf '%s\\n' \"$1\" | nvidia-cuda-mps-control; fi";

bool Contains(const docker::ExecResult& r, std::string_view needle) {
  return r.out.find(needle) != std::string::npos || r.err.find(needle) != std::string::npos;
}

std::string Reply(const docker::ExecResult& r) { return OneLine(r.out.empty() ? r.err : r.out + r.err); }

bool Killed(int exit_code) { return exit_code == 137 || exit_code == 124; }

// The exit status of `nvidia-cuda-mps-control -d` when the driver's libraries cannot be loaded.
constexpr int kDaemonCannotLoadDriver = 244;

// Polls `probe` until it returns true or `timeout` passes. `probe` errors end the wait.
template <typename Probe>
StatusOr<bool> PollUntil(Probe probe, milliseconds timeout, milliseconds interval = milliseconds(100)) {
  Deadline deadline = Deadline::In(timeout);
  for (;;) {
    KMPS_ASSIGN_OR_RETURN(bool done, probe());
    if (done) return true;
    if (deadline.Expired()) return false;
    std::this_thread::sleep_for(std::min(interval, deadline.Remaining()));
    interval = std::min(interval * 2, milliseconds(500));
  }
}

}  // namespace

std::vector<std::string> MpsEnvironment(const MpsSettings& settings) {
  return {"CUDA_MPS_PIPE_DIRECTORY=" + settings.pipe_directory,
          "CUDA_MPS_LOG_DIRECTORY=" + settings.log_directory};
}

docker::ExecOptions ControlCommandExec(const MpsSettings& settings, std::string_view command,
                                       milliseconds timeout) {
  docker::ExecOptions exec;
  long seconds = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
  exec.cmd = {"sh", "-c", kSendScript, "kmps-mps", std::string(command), std::to_string(seconds)};
  exec.env = MpsEnvironment(settings);
  // The client's own deadline leaves the node's `timeout` time to fire first.
  exec.timeout = timeout + milliseconds(5000);
  return exec;
}

docker::ExecOptions StartDaemonExec(const MpsSettings& settings, milliseconds timeout) {
  docker::ExecOptions exec;
  exec.cmd = {"nvidia-cuda-mps-control", "-d"};
  exec.env = MpsEnvironment(settings);
  exec.timeout = timeout;
  return exec;
}

ReplyKind ClassifyReply(const docker::ExecResult& r) {
  if (Contains(r, "Cannot find MPS control daemon process")) return ReplyKind::kNoDaemon;
  if (Contains(r, "Cannot send command to MPS control daemon process")) return ReplyKind::kTransient;
  if (r.out.rfind("Unknown command", 0) == 0 || r.err.rfind("Unknown command", 0) == 0) {
    return ReplyKind::kUnknownCommand;
  }
  return r.exit_code == 0 ? ReplyKind::kOk : ReplyKind::kError;
}

std::vector<int> ParseServerList(std::string_view reply) {
  std::vector<int> pids;
  ForEachLine(reply, [&](std::string_view line) {
    line = Trim(line);
    int pid = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (!line.empty() && ec == std::errc() && p == line.data() + line.size()) pids.push_back(pid);
  });
  return pids;
}

StatusOr<std::string> SendCommand(cluster::Node& node, const MpsSettings& settings, std::string_view command,
                                  const CommandOptions& options) {
  if (command.empty() || command.find('\n') != std::string_view::npos) {
    return InvalidArgument("an MPS command is one non-empty line");
  }
  milliseconds backoff = options.backoff;
  for (int attempt = 1;; ++attempt) {
    auto result = node.Command(ControlCommandExec(settings, command, options.timeout));
    if (!result.ok()) {
      if (result.status().code() == Code::kDeadlineExceeded) {
        return DeadlineExceeded(fmt::format("MPS command '{}' in node {} did not answer within {} s", command,
                                            node.name(), options.timeout.count() / 1000));
      }
      return result.status().WithContext(fmt::format("MPS command '{}' in node {}", command, node.name()));
    }
    const docker::ExecResult& r = *result;
    switch (ClassifyReply(r)) {
      case ReplyKind::kOk:
        return r.out;
      case ReplyKind::kNoDaemon:
        return NotFound(fmt::format("no MPS control daemon runs in node {} (run kindmps-api up)", node.name()));
      case ReplyKind::kUnknownCommand:
        return InvalidArgument(fmt::format("MPS control daemon in node {}: {}", node.name(), Reply(r)));
      case ReplyKind::kTransient:
        if (attempt < options.attempts) {
          std::this_thread::sleep_for(backoff);
          backoff *= 2;
          continue;
        }
        return Failed(fmt::format("MPS control daemon in node {} refused '{}' {} times: {}", node.name(), command,
                                  attempt, Reply(r)));
      case ReplyKind::kError:
        if (Killed(r.exit_code)) {
          return DeadlineExceeded(fmt::format("MPS command '{}' in node {} did not answer within {} s", command,
                                              node.name(), options.timeout.count() / 1000));
        }
        if (r.exit_code == 127 || r.exit_code == 126) {
          return Failed(fmt::format("nvidia-cuda-mps-control cannot run in node {} (exit {}): {}", node.name(),
                                    r.exit_code, Reply(r)));
        }
        return Failed(fmt::format("MPS command '{}' in node {} failed (exit {}): {}", command, node.name(),
                                  r.exit_code, Reply(r)));
    }
  }
}

StatusOr<MpsProcesses> ReadProcesses(cluster::Node& node) {
  KMPS_ASSIGN_OR_RETURN(docker::TopResult top, node.Top(kTopPsArgs));
  return FindMpsProcesses(top);
}

StatusOr<EnsureResult> EnsureDaemon(cluster::Node& node, const MpsSettings& settings, milliseconds timeout) {
  KMPS_ASSIGN_OR_RETURN(MpsProcesses before, ReadProcesses(node));
  if (before.control) return EnsureResult{before.control->pid, false};

  docker::ExecOptions mkdir;
  mkdir.cmd = {"mkdir", "-p", settings.pipe_directory, settings.log_directory};
  mkdir.timeout = timeout;
  KMPS_ASSIGN_OR_RETURN(docker::ExecResult made, node.Command(mkdir));
  if (made.exit_code != 0) {
    return Failed(fmt::format("cannot create {} and {} in node {}: {}", settings.pipe_directory,
                              settings.log_directory, node.name(), Reply(made)));
  }

  KMPS_ASSIGN_OR_RETURN(docker::ExecResult started, node.Command(StartDaemonExec(settings, timeout)));
  bool already = Contains(started, "An instance of this daemon is already running");
  if (started.exit_code != 0 && !already) {
    if (started.exit_code == 126 || started.exit_code == 127) {
      return Failed(fmt::format(
          "nvidia-cuda-mps-control cannot run in node {} (exit {}): {} (are the driver mounts in place? see "
          "kindmps-api config)",
          node.name(), started.exit_code, Reply(started)));
    }
    if (started.exit_code == kDaemonCannotLoadDriver && Reply(started).empty()) {
      // Seen on an H200: -d exits 244 and says nothing when dlopen of the driver fails.
      return EnvironmentMissing(fmt::format(
          "nvidia-cuda-mps-control -d exited 244 with no message in node {}: it could not load "
          "libcuda.so.1 or libnvidia-ml.so.1 through the node's loader path (check the driver "
          "mounts: kindmps-api inspect, kindmps-api config)",
          node.name()));
    }
    return Failed(fmt::format("nvidia-cuda-mps-control -d failed in node {} (exit {}): {}", node.name(),
                              started.exit_code, Reply(started)));
  }

  int pid = 0;
  KMPS_ASSIGN_OR_RETURN(bool up, PollUntil(
                                     [&]() -> StatusOr<bool> {
                                       KMPS_ASSIGN_OR_RETURN(MpsProcesses now, ReadProcesses(node));
                                       if (now.control) pid = now.control->pid;
                                       return now.control.has_value();
                                     },
                                     timeout));
  if (!up) {
    return Failed(fmt::format("nvidia-cuda-mps-control -d returned but no daemon shows in node {}'s processes "
                              "(see {}/control.log in the node)",
                              node.name(), settings.log_directory));
  }
  return EnsureResult{pid, !already};
}

Status ApplySettings(cluster::Node& node, const MpsSettings& settings) {
  if (settings.default_active_thread_percentage) {
    std::string cmd = fmt::format("set_default_active_thread_percentage {}", *settings.default_active_thread_percentage);
    KMPS_ASSIGN_OR_RETURN(std::string reply, SendCommand(node, settings, cmd));
    (void)reply;
  }
  for (const auto& limit : settings.pinned_device_memory_limits) {
    std::string cmd = fmt::format("set_default_device_pinned_mem_limit {} {}", limit.device, limit.limit);
    KMPS_ASSIGN_OR_RETURN(std::string reply, SendCommand(node, settings, cmd));
    (void)reply;
  }
  return Status::Ok();
}

StatusOr<int> EnsureServer(cluster::Node& node, const MpsSettings& settings, milliseconds timeout) {
  KMPS_ASSIGN_OR_RETURN(MpsProcesses before, ReadProcesses(node));
  if (!before.servers.empty()) return before.servers.front().pid;
  if (!before.control) return Failed(fmt::format("no MPS control daemon runs in node {}", node.name()));

  CommandOptions options;
  options.timeout = timeout;
  auto reply = SendCommand(node, settings, fmt::format("start_server -uid {}", settings.server_uid), options);
  // Real start_server has been seen never to return; the process table decides.
  if (!reply.ok() && reply.status().code() != Code::kDeadlineExceeded) return reply.status();

  int pid = 0;
  KMPS_ASSIGN_OR_RETURN(bool up, PollUntil(
                                     [&]() -> StatusOr<bool> {
                                       KMPS_ASSIGN_OR_RETURN(MpsProcesses now, ReadProcesses(node));
                                       if (!now.servers.empty()) pid = now.servers.front().pid;
                                       return !now.servers.empty();
                                     },
                                     reply.ok() ? timeout : milliseconds(2000)));
  if (!up) {
    if (!reply.ok()) return reply.status();
    return Failed(fmt::format("start_server -uid {} returned but no nvidia-cuda-mps-server shows in node {} "
                              "(see {}/server.log in the node)",
                              settings.server_uid, node.name(), settings.log_directory));
  }
  return pid;
}

Status Quit(cluster::Node& node, const MpsSettings& settings, milliseconds timeout) {
  KMPS_ASSIGN_OR_RETURN(MpsProcesses before, ReadProcesses(node));
  if (!before.control) return Status::Ok();
  CommandOptions options;
  options.timeout = timeout;
  auto reply = SendCommand(node, settings, "quit", options);
  // No daemon to answer means it is gone already; any other failure is reported, not waited out.
  if (!reply.ok() && reply.status().code() != Code::kNotFound) return reply.status();
  KMPS_ASSIGN_OR_RETURN(bool gone, PollUntil(
                                       [&]() -> StatusOr<bool> {
                                         KMPS_ASSIGN_OR_RETURN(MpsProcesses now, ReadProcesses(node));
                                         return !now.control.has_value();
                                       },
                                       timeout));
  if (!gone) {
    return DeadlineExceeded(fmt::format("the MPS control daemon in node {} is still running {} s after quit",
                                        node.name(), timeout.count() / 1000));
  }
  return Status::Ok();
}

}  // namespace kmps::mps
