// What a failed `kind` run said: the one line of its output that tells why, for the one-line
// error contract.
#pragma once

#include <deque>
#include <string>

#include "kind/kind_runner.h"

namespace kmps::kind {

// The informative line of kind's output: the Docker daemon's refusal (a line holding
// "Error response from daemon", else "docker: ") when kind quotes a failed docker command, else
// the last "ERROR: " line, else the last non-empty line. Never the docker CLI's closing
// boilerplate ("See 'docker run --help'." / "Run 'docker run --help' for more information").
// kind's "Command Output: " prefix is dropped. "" when nothing qualifies.
std::string KindErrorLine(const std::deque<std::string>& lines);

// "<what> failed (exit N): <KindErrorLine>", e.g. what = "kind create cluster --name demo".
std::string DescribeKindFailure(const std::string& what, const ProcessResult& result);

}  // namespace kmps::kind
