#include "mps/mps_control.h"

#include <thread>

#include <fmt/core.h>

#include "common/deadline.h"
#include "common/text.h"

namespace kmps::mps {
namespace {

using std::chrono::milliseconds;

// The fixed shell program; $1 is the command (data), $2 the in-node deadline in seconds. Without
// the pipe directory's control socket the command is not sent: root's client would still reach
// the daemon through control_privileged, where no Pod can, and `status` calls that daemon
// unreachable; both say the same.
constexpr std::string_view kNoSocket = "kmps: no control socket";
constexpr std::string_view kSendBody =
    "[ -S \"$CUDA_MPS_PIPE_DIRECTORY/control\" ] || { echo 'kmps: no control socket' >&2; exit 1; }\n"
    "kmps_mps \"$1\" \"$2\"";

bool Contains(const node::CommandResult& r, std::string_view needle) {
  return r.out.find(needle) != std::string::npos || r.err.find(needle) != std::string::npos;
}

std::string Reply(const node::CommandResult& r) { return OneLine(r.out.empty() ? r.err : r.out + r.err); }

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

std::string NodeScript(std::string_view body) {
  std::string script(kNodeShellFunctions);
  script.append(body);
  return script;
}

std::vector<std::string> MpsEnvironment(const MpsSettings& settings) {
  return {"CUDA_MPS_PIPE_DIRECTORY=" + settings.pipe_directory,
          "CUDA_MPS_LOG_DIRECTORY=" + settings.log_directory};
}

node::Command ControlCommandExec(const MpsSettings& settings, std::string_view command,
                                       milliseconds timeout) {
  node::Command exec;
  long seconds = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
  static const std::string script = NodeScript(kSendBody);
  exec.argv = {"sh", "-c", script, "kmps-mps", std::string(command), std::to_string(seconds)};
  exec.env = MpsEnvironment(settings);
  // The client's own deadline leaves the node's `timeout` time to fire first.
  exec.timeout = timeout + milliseconds(5000);
  return exec;
}

ReplyKind ClassifyReply(const node::CommandResult& r) {
  if (Contains(r, kNoSocket)) return ReplyKind::kNoSocket;
  if (Contains(r, "Cannot find MPS control daemon process")) return ReplyKind::kNoDaemon;
  if (Contains(r, "Cannot send command to MPS control daemon process")) return ReplyKind::kTransient;
  if (r.out.rfind("Unknown command", 0) == 0 || r.err.rfind("Unknown command", 0) == 0) {
    return ReplyKind::kUnknownCommand;
  }
  if (Contains(r, kRefusedSettings) || Contains(r, kRefusedCommand)) {
    return ReplyKind::kRefused;
  }
  return r.exit_code == 0 ? ReplyKind::kOk : ReplyKind::kError;
}

std::vector<int> ParseServerList(std::string_view reply) {
  std::vector<int> pids;
  ForEachLine(reply, [&](std::string_view line) {
    if (auto pid = ParseInteger<int>(Trim(line))) pids.push_back(*pid);
  });
  return pids;
}

StatusOr<std::string> SendCommand(node::Node& node, const MpsSettings& settings, std::string_view command,
                                  const CommandOptions& options) {
  if (command.empty() || command.find('\n') != std::string_view::npos) {
    return InvalidArgument("an MPS command is one non-empty line");
  }
  milliseconds backoff = options.backoff;
  for (int attempt = 1;; ++attempt) {
    auto result = node.Run(ControlCommandExec(settings, command, options.timeout));
    if (!result.ok()) {
      if (result.status().code() == Code::kDeadlineExceeded) {
        return DeadlineExceeded(fmt::format("MPS command '{}' in node {} did not answer within {} s", command,
                                            node.name(), options.timeout.count() / 1000));
      }
      return result.status().WithContext(fmt::format("MPS command '{}' in node {}", command, node.name()));
    }
    if (ClassifyReply(*result) == ReplyKind::kTransient && attempt < options.attempts) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      continue;
    }
    return ReplyOf(node.name(), command, *result, options.timeout, attempt);
  }
}

StatusOr<std::string> ReplyOf(const std::string& node, std::string_view command, const node::CommandResult& r,
                              milliseconds timeout, int attempts) {
  switch (ClassifyReply(r)) {
    case ReplyKind::kOk:
      return r.out;
    case ReplyKind::kNoDaemon:
      return NotFound(fmt::format("no MPS control daemon runs in node {} (run kindmps-api up)", node));
    case ReplyKind::kNoSocket:
      return NotFound(fmt::format("node {} has no MPS control socket in its pipe directory (deleted, or the daemon "
                                  "serves another pipe directory); kindmps-api up restarts the daemon",
                                  node));
    case ReplyKind::kUnknownCommand:
      return InvalidArgument(fmt::format("MPS control daemon in node {}: {}", node, Reply(r)));
    case ReplyKind::kRefused:
      return Failed(fmt::format("MPS control daemon in node {} refused '{}': {} (the daemon takes it only "
                                          "from root or the user who started it)",
                                          node, command, Reply(r)));
    case ReplyKind::kTransient:
      return Failed(fmt::format("MPS control daemon in node {} refused '{}' {} times: {}", node, command, attempts,
                                Reply(r)));
    case ReplyKind::kError:
      break;
  }
  if (Killed(r.exit_code)) {
    return DeadlineExceeded(fmt::format("MPS command '{}' in node {} did not answer within {} s", command, node,
                                        timeout.count() / 1000));
  }
  if (r.exit_code == 127 || r.exit_code == 126) {
    return Failed(fmt::format("nvidia-cuda-mps-control cannot run in node {} (exit {}): {}", node, r.exit_code,
                              Reply(r)));
  }
  return Failed(fmt::format("MPS command '{}' in node {} failed (exit {}): {}", command, node, r.exit_code, Reply(r)));
}

StatusOr<MpsProcesses> ReadProcesses(node::Node& node) {
  KMPS_ASSIGN_OR_RETURN(node::ProcessTable top, node.Processes(kTopPsArgs));
  return FindMpsProcesses(top);
}

Status DaemonStartError(const std::string& node, int exit_code, const std::string& output) {
  std::string reply = OneLine(output);
  if (exit_code == 126 || exit_code == 127) {
    return Failed(fmt::format(
        "nvidia-cuda-mps-control cannot run in node {} (exit {}): {} (are the driver mounts in place? see "
        "kindmps-api config)",
        node, exit_code, reply));
  }
  if (exit_code == kDaemonCannotLoadDriver && reply.empty()) {
    // Seen on an H200: -d exits 244 and says nothing when dlopen of the driver fails.
    return EnvironmentMissing(fmt::format(
        "nvidia-cuda-mps-control -d exited 244 with no message in node {}: it could not load "
        "libcuda.so.1 or libnvidia-ml.so.1 through the node's loader path (check the driver "
        "mounts: kindmps-api inspect, kindmps-api config)",
        node));
  }
  return Failed(fmt::format("nvidia-cuda-mps-control -d failed in node {} (exit {}): {}", node, exit_code, reply));
}

Status Quit(node::Node& node, const MpsSettings& settings, milliseconds timeout) {
  KMPS_ASSIGN_OR_RETURN(MpsProcesses before, ReadProcesses(node));
  if (!before.control) return Status::Ok();
  CommandOptions options;
  options.timeout = timeout;
  auto reply = SendCommand(node, settings, "quit", options);
  // No daemon to answer means it is gone already; any other failure is reported, not waited out.
  if (!reply.ok()) return reply.status().code() == Code::kNotFound ? Status::Ok() : reply.status();
  // Gone once the node runs one daemon fewer: with a daemon per GPU (mps.daemons perGpu) the
  // others run on, and the process table's PIDs (the host's) do not say which is whose.
  KMPS_ASSIGN_OR_RETURN(bool gone, PollUntil(
                                       [&]() -> StatusOr<bool> {
                                         KMPS_ASSIGN_OR_RETURN(MpsProcesses now, ReadProcesses(node));
                                         return now.controls.size() < before.controls.size();
                                       },
                                       timeout));
  if (!gone) {
    return DeadlineExceeded(fmt::format("the MPS control daemon in node {} is still running {} s after quit",
                                        node.name(), timeout.count() / 1000));
  }
  return Status::Ok();
}

}  // namespace kmps::mps
