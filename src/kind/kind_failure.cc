#include "kind/kind_failure.h"

#include <string_view>

#include <fmt/core.h>

#include "common/text.h"

namespace kmps::kind {
namespace {

bool Contains(std::string_view line, std::string_view what) { return line.find(what) != std::string_view::npos; }

// The docker CLI ends a failed command's output with a pointer to its help.
bool IsHelpBoilerplate(std::string_view line) { return Contains(line, "'docker run --help'"); }

std::string_view WithoutOutputPrefix(std::string_view line) {
  constexpr std::string_view kOutputPrefix = "Command Output: ";
  if (line.substr(0, kOutputPrefix.size()) == kOutputPrefix) return Trim(line.substr(kOutputPrefix.size()));
  return line;
}

bool IsErrorLine(std::string_view line) { return line.substr(0, 7) == "ERROR: "; }

// An ERROR line cut after "failed with error: " and the error's first clause.
std::string Shortened(std::string_view line) {
  constexpr std::string_view kFailedWith = "failed with error: ";
  size_t at = line.find(kFailedWith);
  if (at == std::string_view::npos) return std::string(line);
  size_t end = at + kFailedWith.size();
  size_t stop = line.find(';', end);
  return std::string(Trim(line.substr(0, stop == std::string_view::npos ? line.size() : stop)));
}

}  // namespace

void KindOutput::Add(std::string_view raw) {
  std::string_view line = Trim(raw);
  if (line.empty() || IsHelpBoilerplate(line)) return;
  last_ = line;
  if (IsErrorLine(line)) {
    error_ = line;
    daemon_.clear();
    docker_.clear();
  } else if (Contains(line, "Error response from daemon")) {
    daemon_ = line;
  } else if (Contains(line, "docker: ")) {
    docker_ = line;
  }
}

std::string KindOutput::ErrorLine() const {
  if (!daemon_.empty()) return std::string(WithoutOutputPrefix(daemon_));
  if (!docker_.empty()) return std::string(WithoutOutputPrefix(docker_));
  if (!error_.empty()) return Shortened(error_);
  return std::string(WithoutOutputPrefix(last_));
}

std::string QuotedLine(std::string_view line) {
  std::string safe = TerminalSafe(line);
  if (safe.size() <= kQuotedLineMax) return safe;
  safe.erase(Utf8CompleteLength(std::string_view(safe).substr(0, kQuotedLineMax)));
  return safe + "\u2026";
}

std::string DescribeKindFailure(const std::string& what, int exit_code, const KindOutput& output) {
  std::string line = QuotedLine(output.ErrorLine());
  return fmt::format("{} failed (exit {}){}{}", TerminalSafe(what), exit_code, line.empty() ? "" : ": ", line);
}

}  // namespace kmps::kind
