// Commands on the host (kind itself): a process of its own group, no shell, stdin /dev/null,
// signals forwarded (kind::RunProcess).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "kind/kind_runner.h"
#include "node/node.h"

namespace kmps::node {

class HostRunner : public Commander {
 public:
  // By default kind's `docker run`s are waited for after kind exits (RunLimits::awaited_leftovers).
  explicit HostRunner(kind::RunLimits limits = KindLimits()) : limits_(std::move(limits)) {}
  static kind::RunLimits KindLimits() {
    kind::RunLimits limits;
    limits.awaited_leftovers = {"docker"};
    return limits;
  }
  // Output captured (without on_line): the first lines up to this many bytes, then one line
  // "… [N more lines cut]".
  static constexpr size_t kMaxCaptured = 1 << 20;
  // With on_line, output is streamed; otherwise captured (merged into `out`). Either way each
  // line is as kind::RunProcess hands it on: terminal-safe and cut at its line limit; when the
  // processes the command left were stopped (RunLimits::leftover_grace), a last line says so.
  StatusOr<CommandResult> Run(const Command& command) override;

  // NAME=VALUE entries every command gets over the inherited environment (before its own
  // Command::env): DockerEnv's, so that kind's docker CLI talks to the client's engine.
  void SetEnvironment(std::vector<std::string> env) { env_ = std::move(env); }

 private:
  kind::RunLimits limits_;
  std::vector<std::string> env_;
};

}  // namespace kmps::node
