// Golden files of the pod tests (tests/pod/...): read, and rewritten when KMPS_UPDATE_GOLDEN=1.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace kmps::testing {

inline std::string GoldenPath(const std::string& relative) {
  return std::string(KMPS_SOURCE_DIR) + "/tests/pod/" + relative;
}

inline std::string ReadGolden(const std::string& relative) {
  std::ifstream in(GoldenPath(relative), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The golden text of `relative`, after writing `actual` there when KMPS_UPDATE_GOLDEN=1.
inline std::string Golden(const std::string& relative, const std::string& actual) {
  const char* update = std::getenv("KMPS_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") std::ofstream(GoldenPath(relative), std::ios::binary) << actual;
  return ReadGolden(relative);
}

}  // namespace kmps::testing
