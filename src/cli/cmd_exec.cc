// `kindmps-api exec CONTAINER -- CMD [ARGS...]` and `kindmps-api ps CONTAINER [--ps-args ARGS]`.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/cli.h"
#include "common/fd.h"
#include "docker_api/docker_client.h"

namespace kmps::cli {

namespace {

// docker exec's own convention: failures of the tool itself (not of the command) exit 125.
constexpr int kExecOwnFailure = 125;

// Writes each piece of output straight to the file descriptor as it arrives (no buffering).
class FdSink : public docker::OutputSink {
 public:
  // A reader that went away drops the rest; the exit code still counts.
  void OnStdout(std::string_view d) override { WriteAll(STDOUT_FILENO, d); }
  void OnStderr(std::string_view d) override { WriteAll(STDERR_FILENO, d); }
};

struct ExecArgs {
  std::string container;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user;
  std::string workdir;
  double timeout_s = 3600;
};

struct PsArgs {
  std::string container;
  std::string ps_args;
  double timeout_s = 60;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

int RunExec(const ExecArgs& a) {
  docker::ClientOptions copts;
  copts.call_timeout = Millis(a.timeout_s);
  auto client = docker::DockerClient::Create(copts);
  if (!client.ok()) {
    Report(client.status());
    return kExecOwnFailure;
  }
  docker::ExecOptions o;
  o.cmd = a.cmd;
  o.env = a.env;
  o.user = a.user;
  o.working_dir = a.workdir;
  o.timeout = Millis(a.timeout_s);
  FdSink sink;
  auto code = (*client)->Exec(a.container, o, sink);
  if (!code.ok()) {
    Report(code.status());
    return kExecOwnFailure;
  }
  return *code;
}

// Aligned columns, two spaces apart; the last column (the command line) is not padded.
void PrintTable(const docker::TopResult& t) {
  std::vector<size_t> width(t.titles.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(t.titles);
  for (const auto& row : t.processes) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 < row.size() && i < width.size()) {
        line += fmt::format("{:<{}}  ", row[i], width[i]);
      } else {
        line += row[i];
      }
    }
    fmt::print("{}\n", line);
  };
  print(t.titles);
  for (const auto& row : t.processes) print(row);
}

int RunPs(const PsArgs& a) {
  docker::ClientOptions copts;
  copts.call_timeout = Millis(a.timeout_s);
  auto client = docker::DockerClient::Create(copts);
  if (!client.ok()) return Report(client.status());
  auto top = (*client)->Top(a.container, a.ps_args);
  if (!top.ok()) return Report(top.status());
  PrintTable(*top);
  return 0;
}

}  // namespace

void RegisterExec(CLI::App& app, Context& ctx) {
  auto ea = std::make_shared<ExecArgs>();
  CLI::App* exec = app.add_subcommand(
      "exec", "Run a command in a running container (node) through the Docker API; exits with its exit code");
  exec->add_option("container", ea->container, "Container name or id")->required();
  exec->add_option("cmd", ea->cmd, "Command and arguments (put them after --)")->required();
  exec->add_option("-e,--env", ea->env, "Environment variable KEY=VAL (repeatable)");
  exec->add_option("-u,--user", ea->user, "User (name|uid[:group|gid]) to run as");
  exec->add_option("-w,--workdir", ea->workdir, "Working directory inside the container");
  exec->add_option("--timeout", ea->timeout_s, "Deadline for the whole exec, in seconds")
      ->default_val(3600)
      ->check(CLI::Range(0.001, 1e7));
  exec->footer("Exit status: the command's own; 125 when kindmps-api itself fails.");
  exec->callback([ea, &ctx] { ctx.exit_code = RunExec(*ea); });

  auto pa = std::make_shared<PsArgs>();
  CLI::App* ps = app.add_subcommand("ps", "Print the processes of a container (Docker API top)");
  ps->add_option("container", pa->container, "Container name or id")->required();
  ps->add_option("--ps-args", pa->ps_args, "Arguments for ps (default: the daemon's, -ef)");
  ps->add_option("--timeout", pa->timeout_s, "Deadline in seconds")->default_val(60)->check(CLI::Range(0.001, 1e7));
  ps->callback([pa, &ctx] { ctx.exit_code = RunPs(*pa); });
}

}  // namespace kmps::cli
