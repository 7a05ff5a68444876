// The MPS control daemon's lifecycle and commands, run in a node through cluster::Node.
//
// Commands reach `nvidia-cuda-mps-control`'s stdin as data: the command text is a positional
// argument of a fixed shell program (`printf '%s\n' "$1" | nvidia-cuda-mps-control`), never
// interpolated into a shell string. Every command has a deadline, enforced twice: in the node
// (`timeout -s KILL`, since real MPS can block forever) and on the client's exec.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node.h"
#include "common/status.h"
#include "kind/cluster_config.h"
#include "mps/mps_processes.h"

namespace kmps::mps {

using kind::MpsSettings;

inline constexpr std::chrono::milliseconds kDefaultCommandTimeout{20000};

// Pure: the exec that sends one control command. `command` is passed as data.
docker::ExecOptions ControlCommandExec(const MpsSettings& settings, std::string_view command,
                                       std::chrono::milliseconds timeout);
// Pure: the exec that starts the daemon (`nvidia-cuda-mps-control -d`) with the pipe and log
// directories in its environment.
docker::ExecOptions StartDaemonExec(const MpsSettings& settings, std::chrono::milliseconds timeout);
// The environment every MPS exec gets.
std::vector<std::string> MpsEnvironment(const MpsSettings& settings);

// What a reply means.
enum class ReplyKind { kOk, kNoDaemon, kTransient, kUnknownCommand, kError };
ReplyKind ClassifyReply(const docker::ExecResult& result);
// Pure: the PIDs of `get_server_list`'s reply.
std::vector<int> ParseServerList(std::string_view reply);

struct CommandOptions {
  std::chrono::milliseconds timeout = kDefaultCommandTimeout;
  int attempts = 4;  // for transient refusals ("Cannot send command to MPS control daemon process")
  std::chrono::milliseconds backoff{250};
};

// Sends one command and returns the daemon's reply (stdout). Errors: kNotFound with the node's name
// when no daemon runs ("Cannot find MPS control daemon process"), kInvalidArgument
// for an unknown command, kDeadlineExceeded when the daemon does not answer in time.
StatusOr<std::string> SendCommand(cluster::Node& node, const MpsSettings& settings, std::string_view command,
                                  const CommandOptions& options = {});

// The daemon and servers that run in the node now.
StatusOr<MpsProcesses> ReadProcesses(cluster::Node& node);

// Creates the pipe and log directories and starts the daemon unless a live one runs (a process,
// not just a socket). Returns the daemon's pid as seen from `top`; `started` tells whether it was
// started now.
struct EnsureResult {
  int control_pid = 0;
  bool started = false;
};
StatusOr<EnsureResult> EnsureDaemon(cluster::Node& node, const MpsSettings& settings,
                                    std::chrono::milliseconds timeout = kDefaultCommandTimeout);

// Applies default active thread percentage and pinned memory limits, when configured.
Status ApplySettings(cluster::Node& node, const MpsSettings& settings);

// `start_server -uid <uid>` unless a server already runs; then waits (bounded) until `top` shows
// a server. Real `start_server` has been seen never to return: on its deadline the process table
// decides.
StatusOr<int> EnsureServer(cluster::Node& node, const MpsSettings& settings,
                           std::chrono::milliseconds timeout = kDefaultCommandTimeout);

// `quit`, then waits (bounded) until the daemon is gone from `top`. Ok when no daemon runs.
Status Quit(cluster::Node& node, const MpsSettings& settings,
            std::chrono::milliseconds timeout = kDefaultCommandTimeout);

}  // namespace kmps::mps
