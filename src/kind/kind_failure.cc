#include "kind/kind_failure.h"

#include <string_view>

#include <fmt/core.h>

#include "common/text.h"

namespace kmps::kind {
namespace {

bool Contains(std::string_view line, std::string_view what) { return line.find(what) != std::string_view::npos; }

// The docker CLI ends a failed command's output with a pointer to its help.
bool IsHelpBoilerplate(std::string_view line) { return Contains(line, "'docker run --help'"); }

// The last line that `pick` accepts, or "".
template <typename Pick>
std::string_view Last(const std::deque<std::string>& lines, Pick pick) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::string_view line = Trim(*it);
    if (!line.empty() && !IsHelpBoilerplate(line) && pick(line)) return line;
  }
  return {};
}

}  // namespace

std::string KindErrorLine(const std::deque<std::string>& lines) {
  std::string_view line = Last(lines, [](std::string_view l) { return Contains(l, "Error response from daemon"); });
  if (line.empty()) line = Last(lines, [](std::string_view l) { return Contains(l, "docker: "); });
  if (line.empty()) line = Last(lines, [](std::string_view l) { return l.substr(0, 7) == "ERROR: "; });
  if (line.empty()) line = Last(lines, [](std::string_view) { return true; });
  constexpr std::string_view kOutputPrefix = "Command Output: ";
  if (line.substr(0, kOutputPrefix.size()) == kOutputPrefix) line = Trim(line.substr(kOutputPrefix.size()));
  return std::string(line);
}

std::string DescribeKindFailure(const std::string& what, const ProcessResult& result) {
  std::string line = KindErrorLine(result.tail);
  return fmt::format("{} failed (exit {}){}{}", what, result.exit_code, line.empty() ? "" : ": ", line);
}

}  // namespace kmps::kind
