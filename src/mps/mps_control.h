// The MPS control daemon's lifecycle and commands, run in a node through node::Node.
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

#include "node/node.h"
#include "common/status.h"
#include "config/config.h"
#include "mps/mps_processes.h"

namespace kmps::mps {

using config::MpsSettings;

inline constexpr std::chrono::milliseconds kDefaultCommandTimeout{20000};

// The shell functions every node-side script of kindmps starts with (the control command here,
// up's node setup, status's probe), so that the deadline in the node is written once:
//   kmps_run SECONDS CMD ARGS...   CMD, killed after SECONDS where the node has timeout(1)
//   kmps_mps COMMAND SECONDS       COMMAND (data, one line) on nvidia-cuda-mps-control's stdin
inline constexpr std::string_view kNodeShellFunctions =
    "kmps_run() { if command -v timeout >/dev/null 2>&1; then timeout -s KILL \"$@\"; else shift; \"$@\"; fi; }\n"
    "kmps_mps() { printf '%s\\n' \"$1\" | kmps_run \"$2\" nvidia-cuda-mps-control; }\n";

// `body` after kNodeShellFunctions.
std::string NodeScript(std::string_view body);

// Pure: the exec that sends one control command. `command` is passed as data.
node::Command ControlCommandExec(const MpsSettings& settings, std::string_view command,
                                       std::chrono::milliseconds timeout);
// The environment every MPS exec gets.
std::vector<std::string> MpsEnvironment(const MpsSettings& settings);

// How the daemon begins its refusals of a user who may not change it (exit 0; H200, driver 580):
// "Insufficient privileges for UID 1000. Control deamon settings can only be modified by ..."
// for settings and start_server, "Not enough privilege to execute quit command" for quit.
inline constexpr std::string_view kRefusedSettings = "Insufficient privileges for UID";
inline constexpr std::string_view kRefusedCommand = "Not enough privilege to execute";

// What a reply means.
// kRefused: the daemon took the command from someone who may not change it ("Insufficient
// privileges for UID 1000. ...", "Not enough privilege to execute quit command"); it exits 0.
// kNoSocket: the pipe directory has no control socket, so the command was not sent.
enum class ReplyKind { kOk, kNoDaemon, kNoSocket, kTransient, kUnknownCommand, kRefused, kError };
ReplyKind ClassifyReply(const node::CommandResult& result);
// Pure: the PIDs of `get_server_list`'s reply.
std::vector<int> ParseServerList(std::string_view reply);

struct CommandOptions {
  std::chrono::milliseconds timeout = kDefaultCommandTimeout;
  int attempts = 4;  // for transient refusals ("Cannot send command to MPS control daemon process")
  std::chrono::milliseconds backoff{250};
};

// Sends one command and returns the daemon's reply (stdout). Errors: kNotFound with the node's name
// when no daemon runs ("Cannot find MPS control daemon process"), kInvalidArgument
// for an unknown command, kFailed when the daemon refuses it to this user,
// kDeadlineExceeded when the daemon does not answer in time.
StatusOr<std::string> SendCommand(node::Node& node, const MpsSettings& settings, std::string_view command,
                                  const CommandOptions& options = {});

// What a control command's result `r` (in `node`, after `attempts` tries) means: the reply, or
// the error SendCommand returns for it.
StatusOr<std::string> ReplyOf(const std::string& node, std::string_view command, const node::CommandResult& r,
                              std::chrono::milliseconds timeout, int attempts = 1);

// The daemon and servers that run in the node now.
StatusOr<MpsProcesses> ReadProcesses(node::Node& node);

// What `nvidia-cuda-mps-control -d` exiting `exit_code` with `output` in `node` means: the
// binary cannot run (126/127: the driver mounts), the driver libraries do not load (244 and no
// message: kEnvironment), or another failure.
Status DaemonStartError(const std::string& node, int exit_code, const std::string& output);

// `quit`, then waits (bounded) until the daemon is gone from `top`. Ok when no daemon runs.
Status Quit(node::Node& node, const MpsSettings& settings,
            std::chrono::milliseconds timeout = kDefaultCommandTimeout);

}  // namespace kmps::mps
