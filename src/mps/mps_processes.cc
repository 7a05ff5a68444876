#include "mps/mps_processes.h"

#include <string>
#include <string_view>

#include "common/text.h"

namespace kmps::mps {
namespace {

// The program name of a command line: its first word, without a directory.
std::string_view Program(std::string_view args) {
  args = Trim(args);
  auto sp = args.find(' ');
  std::string_view first = args.substr(0, sp);
  auto slash = first.rfind('/');
  return slash == std::string_view::npos ? first : first.substr(slash + 1);
}

bool HasDaemonFlag(std::string_view args) {
  args = Trim(args);
  auto sp = args.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view rest = Trim(args.substr(sp));
  return rest == "-d" || rest.substr(0, 3) == "-d ";
}

}  // namespace

MpsProcesses FindMpsProcesses(const node::ProcessTable& top) {
  MpsProcesses found;
  int pid_col = top.Column("PID");
  int ppid_col = top.Column("PPID");
  int stat_col = top.Column("STAT");
  if (stat_col < 0) stat_col = top.Column("S");
  int cmd_col = top.Column("COMMAND");
  if (cmd_col < 0) cmd_col = top.Column("CMD");
  if (cmd_col < 0) cmd_col = top.Column("ARGS");
  if (pid_col < 0 || cmd_col < 0) return found;
  for (const auto& row : top.processes) {
    auto cell = [&](int c) -> std::string_view {
      return (c >= 0 && c < static_cast<int>(row.size())) ? std::string_view(row[c]) : std::string_view();
    };
    std::string_view args = cell(cmd_col);
    std::string_view stat = cell(stat_col);
    if (!stat.empty() && stat.front() == 'Z') continue;
    if (args.find("<defunct>") != std::string_view::npos) continue;
    MpsProcess p{ParseInteger<int>(cell(pid_col)).value_or(0), ParseInteger<int>(cell(ppid_col)).value_or(0)};
    std::string_view prog = Program(args);
    if (prog == "nvidia-cuda-mps-control" && HasDaemonFlag(args)) {
      if (!found.control) found.control = p;
      found.controls.push_back(p);
    } else if (prog == "nvidia-cuda-mps-server") {
      found.servers.push_back(p);
    }
  }
  return found;
}

}  // namespace kmps::mps
