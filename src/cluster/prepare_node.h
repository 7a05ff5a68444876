// Brings one GPU node to the wanted state in one exec: /dev/shm at least the wanted size, the
// pipe and log directories, the MPS control daemon, its settings and a server; then one `top`
// to verify. The exec runs a fixed script whose values are positional arguments, never text
// pasted into it. Idempotent: what is already right is left alone.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "cluster/daemons.h"
#include "cluster/status.h"
#include "common/status.h"
#include "config/config.h"
#include "node/node.h"

namespace kmps::cluster {

// The GPUs a node keeps (kind/gpu_assign.h), when not all: the device nodes of the others are
// removed from the node (unmounted first where they are mounts) before the daemon starts, and the
// daemon gets CUDA_VISIBLE_DEVICES with the kept GPUs' UUIDs, so that it serves those only.
// `daemons` (daemons.h's PlanDaemons; empty: the one of config.mps with `visible_devices`) are
// prepared one after the other, each by the script with its own directories and settings.
struct GpuPlan {
  bool all = true;
  std::vector<int> keep = {};          // device minors
  std::string visible_devices = "";    // "GPU-a,GPU-b"; "" leaves CUDA_VISIBLE_DEVICES unset
  std::vector<DaemonPlan> daemons = {};
};

// Pure: the exec that prepares a node for `config` (argv, env, deadline). The control commands
// it sends are ControlCommands(config.mps); `timeout` bounds each command in the node.
// `cdi_spec` (RenderCdiSpec; empty: none) is written to kCdiSpecPath once MPS runs.
node::Command PrepareNodeCommand(const config::ClusterConfig& config, const std::string& cdi_spec = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20),
                                 const GpuPlan& gpus = GpuPlan{});

// Pure: the MPS control commands that apply the configured settings, in order.
std::vector<std::string> ControlCommands(const config::MpsSettings& settings);

// What the script reported.
struct PrepareReport {
  bool shm_resized = false;
  bool daemon_started = false;   // false: one was running
  bool daemon_restarted = false; // one ran without its control socket: stopped and started again
  std::string server;            // "started", "running", "none" (not asked for), "timeout"
  bool pipe_socket = false;
  std::string cdi;               // "written", "kept", or "" (none asked for)
  bool device_plugin = false;    // the kindmps device plugin's socket is there
  std::string threads;           // get_default_active_thread_percentage after the settings, if any
  std::map<std::string, std::string> pinned;  // device -> get_default_device_pinned_mem_limit after them
  std::optional<uint64_t> shm_bytes;  // from /proc/mounts after the work
  std::vector<int> masked;            // the minors whose /dev/nvidiaN was removed now
  std::vector<int> gpus;              // the /dev/nvidiaN the node has after the work
};

// Pure: the report of a script run, or the error it stopped at, worded as the step that failed
// (node `node`, `config` for the values the message names).
StatusOr<PrepareReport> ParsePrepareResult(const std::string& node, const node::CommandResult& result,
                                           const config::ClusterConfig& config, std::chrono::milliseconds timeout);

// Runs the script, then reads the process table once (polling, bounded, only while the daemon or
// a requested server has not shown yet). Returns the node's status as `status` would read it,
// judged, and a one-line note of what was done.
struct Prepared {
  NodeStatus status;
  std::string note;
};
StatusOr<Prepared> PrepareNode(node::Node& node, const config::ClusterConfig& config, const std::string& cdi_spec = "",
                               std::chrono::milliseconds timeout = std::chrono::seconds(20),
                               const GpuPlan& gpus = GpuPlan{});

}  // namespace kmps::cluster
