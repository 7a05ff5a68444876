#include "common/process_table.h"

namespace kmps {

int ProcessTable::Column(std::string_view title) const {
  for (size_t i = 0; i < titles.size(); ++i) {
    if (titles[i] == title) return static_cast<int>(i);
  }
  if (title == "COMMAND" || title == "CMD") {
    for (size_t i = 0; i < titles.size(); ++i) {
      if (titles[i] == "COMMAND" || titles[i] == "CMD") return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace kmps
