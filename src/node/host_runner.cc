#include "node/host_runner.h"

#include <fmt/core.h>

#include "kind/kind_runner.h"

namespace kmps::node {

StatusOr<CommandResult> HostRunner::Run(const Command& command) {
  std::vector<std::string> env = env_;
  env.insert(env.end(), command.env.begin(), command.env.end());
  CommandResult result;
  size_t dropped = 0;  // captured lines past kMaxCaptured
  auto on_line = [&](std::string_view line) {
    if (command.on_line) {
      command.on_line(line);
    } else if (dropped == 0 && result.out.size() + line.size() < kMaxCaptured) {
      result.out.append(line).push_back('\n');
    } else {
      ++dropped;
    }
  };
  KMPS_ASSIGN_OR_RETURN(kind::ProcessResult r,
                        kind::RunProcess(command.argv, Deadline::In(command.timeout), on_line, 20, limits_, env));
  // Said where the output goes, so that `up` shows it on a line of its own.
  if (r.stopped_leftovers) {
    on_line(fmt::format("{} exited; processes it started were still running {} s later and were stopped{}",
                        command.argv.front(), std::chrono::duration<double>(limits_.leftover_grace).count(),
                        r.leftovers_outlived_kill ? " (one outlived SIGKILL)" : ""));
  }
  if (dropped != 0) result.out += fmt::format("\u2026 [{} more line{} cut]\n", dropped, dropped == 1 ? "" : "s");
  result.exit_code = r.exit_code;
  return result;
}

}  // namespace kmps::node
