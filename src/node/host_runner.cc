#include "node/host_runner.h"

#include "kind/kind_runner.h"

namespace kmps::node {

StatusOr<CommandResult> HostRunner::Run(const Command& command) {
  if (!command.env.empty()) return InvalidArgument("the host runner does not take an environment");
  CommandResult result;
  auto on_line = [&](std::string_view line) {
    if (command.on_line) {
      command.on_line(line);
    } else {
      result.out.append(line).push_back('\n');
    }
  };
  KMPS_ASSIGN_OR_RETURN(kind::ProcessResult r, kind::RunProcess(command.argv, Deadline::In(command.timeout), on_line));
  result.exit_code = r.exit_code;
  return result;
}

}  // namespace kmps::node
