// Reading MPS state from a node's process table: the control daemon and its servers. A socket in
// the pipe directory is no proof (sockets outlive `quit`); only a live process is.
#pragma once

#include <optional>
#include <vector>

#include "node/node.h"

namespace kmps::mps {

struct MpsProcess {
  int pid = 0;
  int ppid = 0;  // 0 when the table has no PPID column
};

struct MpsProcesses {
  std::optional<MpsProcess> control;  // `nvidia-cuda-mps-control -d`, not a zombie (the first)
  std::vector<MpsProcess> controls;   // every one (mps.daemons perGpu runs one per GPU)
  std::vector<MpsProcess> servers;    // `nvidia-cuda-mps-server`
};

// Pure: finds the daemon and servers in a `top` result of any ps_args that yield PID and
// COMMAND/CMD columns. Zombies (`[nvidia-cuda-mps] <defunct>`, STAT Z) are ignored.
MpsProcesses FindMpsProcesses(const node::ProcessTable& top);

// The ps_args kmps uses: PID, PPID, STAT and the full command line.
inline constexpr const char* kTopPsArgs = "-o pid,ppid,stat,args";

}  // namespace kmps::mps
