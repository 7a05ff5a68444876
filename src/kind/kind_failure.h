// What a failed `kind` run said: the one line of its output that tells why, for the one-line
// error contract.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kmps::kind {

// The informative line of kind's output, fed line by line over the whole stream and keeping only
// what it needs: kind's closing "ERROR: " line may come hundreds of lines before the end
// (kubeadm's "Command Output:" and a Go stack trace follow it), past any tail. The informative
// line is the Docker daemon's refusal (a line holding "Error response from daemon", else
// "docker: ") seen after the last "ERROR: " line, when kind quotes a failed docker command, else
// that ERROR line, shortened to what comes up to "failed with error: " and the error's first
// clause (e.g. "exit status 1"), else the last non-empty line. Never the docker CLI's closing
// boilerplate ("See 'docker run --help'." / "Run 'docker run --help' for more information").
// kind's "Command Output: " prefix is dropped. "" when nothing qualifies.
class KindOutput {
 public:
  void Add(std::string_view line);
  std::string ErrorLine() const;

 private:
  std::string error_;   // the last "ERROR: " line
  std::string daemon_;  // since it: the last "Error response from daemon" line
  std::string docker_;  // since it: the last "docker: " line
  std::string last_;    // the last non-empty line
};

// How much of kind's line an error message quotes, in bytes.
inline constexpr size_t kQuotedLineMax = 500;

// `line` as an error message quotes it: TerminalSafe, and past kQuotedLineMax bytes cut on a
// character, with "…".
std::string QuotedLine(std::string_view line);

// "<what> failed (exit N): <the line output picked>", e.g. what = "kind create cluster --name demo":
// always one line, `what` TerminalSafe and the line as QuotedLine gives it.
std::string DescribeKindFailure(const std::string& what, int exit_code, const KindOutput& output);

}  // namespace kmps::kind
