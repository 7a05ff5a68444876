// Running the `kind` binary: pure argument builders, and a runner that spawns a process directly
// (no shell), streams its output line by line and enforces a deadline.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/deadline.h"
#include "common/status.h"

namespace kmps::kind {

std::vector<std::string> CreateClusterArgs(const std::string& kind, const std::string& name,
                                           const std::string& config_path, const std::string& image);
std::vector<std::string> DeleteClusterArgs(const std::string& kind, const std::string& name);

// `name_or_path` as given when it holds a '/', else looked up on PATH. kEnvironment when missing.
StatusOr<std::string> FindExecutable(const std::string& name_or_path);

struct ProcessResult {
  int exit_code = -1;              // 128+N when killed by signal N
  std::deque<std::string> tail;    // the last lines of output
};

// Runs argv[0] with stdout and stderr merged into `on_line`, one line at a time. Past the
// deadline the process is killed (TERM, then KILL) and the result is kDeadlineExceeded.
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, Deadline deadline,
                                   const std::function<void(std::string_view)>& on_line, size_t tail_lines = 20);

}  // namespace kmps::kind
