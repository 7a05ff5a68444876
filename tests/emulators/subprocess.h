// Runs a command for the emulator tests: stdin text in, stdout+stderr out, exit code, with a
// wall-clock limit after which the whole process group is killed.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kmps::testing {

struct ProcResult {
  int exit_code = -1;     // -1 when killed or not started
  bool timed_out = false; // the limit ran out and the command was killed
  std::string out;        // stdout
  std::string err;        // stderr
};

// argv[0] is looked up in PATH when it has no slash. `env` entries are set (or, with an empty
// value, unset) in the child only.
ProcResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                      const std::map<std::string, std::string>& env = {},
                      std::chrono::milliseconds limit = std::chrono::seconds(30));

// True when a process of that pid exists and is not a zombie.
bool ProcessAlive(int pid);

// Polls `pred` every 20 ms until it holds or `limit` passes; returns its last value.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10));

}  // namespace kmps::testing

#include "emulators/subprocess_inl.h"
