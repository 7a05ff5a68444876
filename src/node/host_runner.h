// Commands on the host (kind itself): a process of its own group, no shell, stdin /dev/null,
// signals forwarded (kind::RunProcess, with its default limits).
#pragma once

#include <cstddef>

#include "node/node.h"

namespace kmps::node {

class HostRunner : public Commander {
 public:
  // Output captured (without on_line): the first lines up to this many bytes, then one line
  // "… [N more lines cut]".
  static constexpr size_t kMaxCaptured = 1 << 20;
  // With on_line, output is streamed; otherwise captured (merged into `out`). Either way each
  // line is as kind::RunProcess hands it on: terminal-safe and cut at its line limit.
  StatusOr<CommandResult> Run(const Command& command) override;
};

}  // namespace kmps::node
