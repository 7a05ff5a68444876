// Commands on the host (kind itself): a process of its own group, no shell, stdin /dev/null,
// signals forwarded (kind::RunProcess).
#pragma once

#include "node/node.h"

namespace kmps::node {

class HostRunner : public Commander {
 public:
  // With on_line, output is streamed; otherwise captured (merged into `out`, bounded by the
  // runner's tail of lines).
  StatusOr<CommandResult> Run(const Command& command) override;
};

}  // namespace kmps::node
