// The node layer: what the MPS and cluster code need of a kind node, independent of how it is
// reached (kind's Node.Command seam). A Docker node (docker_node.h) and the host runner
// (host_runner.h) implement it; tests use a scripted fake (tests/support/fake_node.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/process_table.h"
#include "common/status.h"

namespace kmps::node {

// One command: argv (never a shell string), environment additions and a deadline for the whole
// run. With `on_line`, stdout and stderr are merged and handed over line by line instead of
// being captured.
struct Command {
  std::vector<std::string> argv;  // required, non-empty
  std::vector<std::string> env;   // "KEY=value"
  std::chrono::milliseconds timeout{60000};
  std::function<void(std::string_view)> on_line;
};

struct CommandResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

using ProcessTable = kmps::ProcessTable;

// What is known of a node without entering it.
struct NodeInfo {
  std::string name;
  std::string role;      // kind's role label: "control-plane", "worker"
  bool running = false;
  bool gpu = false;      // set by the cluster layer from its config
  bool paused = false;   // docker pause: not running, frozen until docker unpause
};

// Runs commands somewhere: in a node, or on the host (kind's exec.Cmder).
class Commander {
 public:
  virtual ~Commander() = default;
  // Runs `command` and returns its exit code and output; errors are the transport's (no such
  // executable, the deadline, a signal that stopped it: kCancelled with the signal).
  virtual StatusOr<CommandResult> Run(const Command& command) = 0;
};

class Node : public Commander {
 public:
  explicit Node(NodeInfo info) : info_(std::move(info)) {}
  const NodeInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  void set_gpu(bool gpu) { info_.gpu = gpu; }
  // The node's process table, from outside the node (ps_args as for `ps`).
  virtual StatusOr<ProcessTable> Processes(std::string_view ps_args) = 0;
  // Whether `path` exists in the node, without running anything there (also when stopped).
  virtual StatusOr<bool> PathExists(std::string_view path) = 0;
  // The same node on a connection of its own, for work on another thread at the same time.
  virtual StatusOr<std::unique_ptr<Node>> Fork() = 0;

 private:
  NodeInfo info_;
};

using NodeList = std::vector<std::unique_ptr<Node>>;

// Where a cluster's nodes come from (kind's node provider).
class Provider {
 public:
  virtual ~Provider() = default;
  // The Kubernetes nodes of `cluster`, sorted by name, each usable on a thread of its own.
  virtual StatusOr<NodeList> ListNodes(const std::string& cluster) = 0;
  // Every container labelled for `cluster`, load balancer included, sorted by name.
  virtual StatusOr<std::vector<std::string>> ContainerNames(const std::string& cluster) = 0;
};

inline constexpr size_t kMaxParallel = 16;

// Runs fn(i) for every i in [0, count) on up to kMaxParallel threads (the calling thread too) and
// returns the statuses in order. fn must only touch what belongs to item i.
std::vector<Status> ParallelFor(size_t count, const std::function<Status(size_t)>& fn);

}  // namespace kmps::node
