// The tests' process runner: runs a command to its end, stdin text in, stdout and stderr out, exit
// code, with a wall-clock limit after which the whole process group is killed. (The product's own
// runner, kind::RunProcess, streams kind's merged output and forwards signals.)
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <thread>
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
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace kmps::testing
