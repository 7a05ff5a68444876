// A process table as `ps` prints it (Docker's top returns one): column titles and rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kmps {

struct ProcessTable {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> processes;
  // Index of a title ("PID", "PPID", "STAT", "COMMAND"/"CMD": ps prints either), or -1.
  int Column(std::string_view title) const;
};

}  // namespace kmps
