// The kindmps-api command line: each file registers its subcommands on the app.
#pragma once

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace kmps::cli {

// Where a subcommand's callback leaves the process exit code.
struct Context {
  int exit_code = 0;
  int verbosity = 0;  // -q: -1 (no progress), -v: 1 (kind's own lines too)
};

// Prints one line "kindmps-api: <message>" on stderr and returns the process exit code for the
// status (ProcessExitCodeFor: 128+N after signal N, e.g. 130/143/129/131 after
// SIGINT/SIGTERM/SIGHUP/SIGQUIT).
int Report(const Status& status);

// A flag's value in seconds, checked as every duration is (common/number.h ParseSeconds): more
// than 0, at most `max`, digits with an optional fraction; "nan", "inf", "-1", "1e3" are usage
// errors naming the flag.
CLI::Validator Seconds(double max);
// Seconds a flag gave (checked by Seconds), as the milliseconds of a deadline, rounded.
std::chrono::milliseconds Millis(double seconds);

void RegisterExec(CLI::App& app, Context& ctx);     // exec, ps
void RegisterInspect(CLI::App& app, Context& ctx);  // inspect, config
void RegisterCluster(CLI::App& app, Context& ctx);  // up, status, mps, down
void RegisterPod(CLI::App& app, Context& ctx);      // pod
// completion bash|zsh|fish, and the man page (`kindmps-api completion man`), from the app's own
// commands and flags, registered last so that it sees them all.
void RegisterCompletion(CLI::App& app, Context& ctx);

}  // namespace kmps::cli
