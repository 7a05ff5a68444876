// `kindmps-api exec [-i] [-t] CONTAINER -- CMD [ARGS...]` and `kindmps-api ps CONTAINER [--ps-args
// ARGS] [--json]`. exec as docker exec (-i: stdin through the hijacked connection, its end passed
// on; -t: a TTY, our terminal raw meanwhile and its size passed on), except that a command it
// loses track of (its deadline, a broken stream, a closed stdout) is stopped in the node rather
// than left running (docs/exec.md).
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <random>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "common/deadline.h"
#include "common/fd.h"
#include "common/json_text.h"
#include "common/number.h"
#include "config/config.h"
#include "docker_api/docker_client.h"
#include "docker_api/terminal.h"

namespace kmps::cli {

namespace {

// docker exec's own convention: failures of the tool itself (not of the command) exit 125, its
// usage errors too.
constexpr int kExecOwnFailure = 125;
// What a failed exec may still spend to learn what became of its command and to stop it.
constexpr auto kCleanupBudget = std::chrono::seconds(10);
constexpr auto kCleanupInspect = std::chrono::seconds(3);
constexpr double kMaxTimeoutSeconds = 1e7;

// Writes each piece of output straight to the file descriptor as it arrives (no buffering). Once
// stdout takes no more (its reader went away: EPIPE), the sink refuses, which ends the stream.
class FdSink : public docker::OutputSink {
 public:
  void OnStdout(std::string_view d) override {
    if (!stdout_closed_ && !WriteAll(STDOUT_FILENO, d)) stdout_closed_ = true;
  }
  void OnStderr(std::string_view d) override { WriteAll(STDERR_FILENO, d); }
  Status Refusal() const override {
    return stdout_closed_ ? Failed("stdout was closed (broken pipe)") : Status::Ok();
  }
  bool stdout_closed() const { return stdout_closed_; }

 private:
  bool stdout_closed_ = false;
};

struct ExecArgs {
  std::string container;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user;
  std::string workdir;
  std::string timeout = "3600";  // seconds; checked by RunExec, so that a bad value exits 125
  bool interactive = false;      // -i: attach stdin
  bool tty = false;              // -t: a pseudo-terminal
};

struct PsArgs {
  std::string container;
  std::string ps_args;
  double timeout_s = 60;
  bool json = false;
};

// exec's usage errors that CLI11 leaves to the callback, one line each, exit 125 as docker exec's
// (an unknown flag or a flag without its value is CLI11's parse error, exit 2 in main.cc).
Status CheckUsage(const ExecArgs& a) {
  constexpr const char* kUsage = "kindmps-api exec NODE -- CMD [ARGS...]";
  if (a.container.empty()) return InvalidArgument(fmt::format("exec: no node given: {}", kUsage));
  if (a.cmd.empty()) {
    return InvalidArgument(fmt::format("exec: no command given for node {}: {}", a.container, kUsage));
  }
  std::string timeout = a.timeout;
  if (std::string why = Seconds(kMaxTimeoutSeconds)(timeout); !why.empty()) {
    return InvalidArgument(fmt::format("exec: --timeout: {}", why));
  }
  return Status::Ok();
}

// exec does not attach stdin (docker exec without -i): input waiting there would be dropped
// without a word, so it is refused. A terminal, /dev/null, a closed descriptor, an empty file or
// a pipe with nothing in it yet is fine. (Data that a writer sends later is not seen.)
Status CheckStdin() {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) != 0 || ::isatty(STDIN_FILENO)) return Status::Ok();
  bool has_data = false;
  if (S_ISREG(st.st_mode)) {
    off_t at = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
    has_data = st.st_size > (at < 0 ? 0 : at);
  } else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
    int ready = 0;
    has_data = ::ioctl(STDIN_FILENO, FIONREAD, &ready) == 0 && ready > 0;
  } else if (S_ISCHR(st.st_mode)) {
    struct stat null {};
    bool dev_null = ::stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) && null.st_rdev == st.st_rdev;
    pollfd p{STDIN_FILENO, POLLIN, 0};
    has_data = !dev_null && ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
  }
  if (!has_data) return Status::Ok();
  return InvalidArgument(
      "exec: stdin has data, but exec does not attach stdin and it would be lost: give the command its input "
      "another way (a file in the node, an argument), or redirect stdin from /dev/null");
}

// -i -t need a terminal on stdin, as docker exec's (whose message this is; docker exits 1).
Status CheckTty(const ExecArgs& a) {
  if (!a.tty || !a.interactive || ::isatty(STDIN_FILENO)) return Status::Ok();
  return InvalidArgument(
      "exec: the input device is not a TTY (-i -t need a terminal on stdin; without -t the command reads stdin "
      "as it comes)");
}

// The size of our terminal (stdout's, else stdin's, as docker takes its output's) for the exec's
// TTY: sent once the command started, and on each SIGWINCH. The daemon waits for the command to
// start before it resizes; a failed resize is retried twice, then the TTY keeps its default size
// (at most about 3 s in all, before the stream is read).
class TtySizer {
 public:
  explicit TtySizer(docker::DockerClient& client) : client_(client) {}
  void Started(const std::string& exec_id) {
    exec_id_ = exec_id;
    for (int attempt = 0; attempt < 3 && !Send(); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 << attempt));
    }
  }
  void Changed() {
    if (!exec_id_.empty()) Send();
  }

 private:
  bool Send() {
    auto size = docker::SizeOfTerminal(STDOUT_FILENO);
    if (!size) size = docker::SizeOfTerminal(STDIN_FILENO);
    if (!size) return true;  // no terminal to take a size from: the TTY keeps the daemon's default
    // A second at most a call: this runs before the stream is read, with the terminal raw.
    return client_.ExecResize(exec_id_, size->rows, size->cols, Deadline::In(std::chrono::seconds(1))).ok();
  }
  docker::DockerClient& client_;
  std::string exec_id_;
};

// A fresh tag for ExecOptions::stop_tag: 64 random bits in hex.
std::string RandomTag() {
  std::random_device rd;
  uint64_t bits = (uint64_t{rd()} << 32) ^ rd();
  return fmt::format("{:016x}", bits);
}

// After an exec that was started failed: what became of its command, having stopped it when it
// may still run. Spends at most kCleanupBudget on the daemon.
std::string Aftermath(docker::DockerClient& client, const std::string& node, const docker::ExecProgress& progress,
                      const std::string& tag) {
  Deadline cleanup = Deadline::In(kCleanupBudget);
  auto state = client.ExecInspect(progress.exec_id, cleanup.Cap(kCleanupInspect));
  if (state.ok() && !state->running) {
    if (state->exit_code.has_value()) {
      return fmt::format("the command had ended in node {} with exit code {} (its output may be incomplete)", node,
                         *state->exit_code);
    }
    if (state->pid == 0) return fmt::format("the command never started in node {}", node);
  }
  auto stopped = client.StopTaggedExec(node, tag, cleanup);
  if (!stopped.ok()) {
    return fmt::format(
        "the command may still be running in node {} (stopping it failed: {}): check with kindmps-api ps {} and "
        "end it with kindmps-api exec {} -- kill PID",
        node, stopped.status().message(), node, node);
  }
  if (stopped->terminated == 0) return fmt::format("no process of the command was left in node {}", node);
  std::string how = fmt::format("SIGTERM to {} process{}", stopped->terminated, stopped->terminated == 1 ? "" : "es");
  if (stopped->killed > 0) how += fmt::format(", SIGKILL to {} that stayed", stopped->killed);
  return fmt::format("stopped the command in node {} ({})", node, how);
}

int RunExec(const ExecArgs& a) {
  Status usage = CheckUsage(a);
  if (usage.ok()) usage = a.interactive ? CheckTty(a) : CheckStdin();
  if (!usage.ok()) {
    Report(usage);
    return kExecOwnFailure;
  }
  double timeout_s = *ParseSeconds(a.timeout, kMaxTimeoutSeconds);
  // A closed stdout is an EPIPE that FdSink reports, not a SIGPIPE that ends kindmps-api while
  // the command goes on.
  std::signal(SIGPIPE, SIG_IGN);
  docker::ClientOptions copts;
  copts.call_timeout = Millis(timeout_s);
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
  o.timeout = Millis(timeout_s);
  o.stop_tag = RandomTag();
  o.attach_stdin = a.interactive;
  o.tty = a.tty;
  FdSink sink;
  docker::ExecProgress progress;
  // -i -t on a terminal: raw from the start of the stream to its end, restored before any line
  // is printed (and by RawTerminal on a fatal signal meanwhile).
  std::unique_ptr<docker::RawTerminal> raw;
  std::unique_ptr<docker::WinchWatch> winch;
  TtySizer sizer(**client);
  docker::ExecAttach attach;
  attach.stdin_fd = STDIN_FILENO;
  if (a.tty) {
    if (auto w = docker::WinchWatch::Start(); w.ok()) winch = std::move(*w);
    if (winch) {
      attach.wake_fd = winch->read_fd();
      attach.on_wake = [&sizer] { sizer.Changed(); };
    }
    attach.on_start = [&](const std::string& exec_id) {
      if (a.interactive) {
        if (auto r = docker::RawTerminal::Enter(STDIN_FILENO); r.ok()) raw = std::move(*r);
      }
      sizer.Started(exec_id);
    };
  }
  auto code = (*client)->ExecAttached(a.container, o, sink, attach, progress);
  raw.reset();
  winch.reset();
  if (code.ok()) return *code;
  if (!progress.started) {
    Report(code.status());
    return kExecOwnFailure;
  }
  std::string what;
  if (sink.stdout_closed()) {
    what = "exec: stdout was closed (broken pipe)";
  } else if (code.status().code() == Code::kDeadlineExceeded) {
    what = fmt::format("exec: the {:g} s deadline (--timeout) passed", timeout_s);
  } else {
    what = code.status().message();
  }
  Report(Failed(fmt::format("{}; {}", what, Aftermath(**client, a.container, progress, o.stop_tag))));
  return kExecOwnFailure;
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

// ps --json (docs/json.md): the titles as the daemon's top gives them, and each process as an
// object keyed by its column's title; a title that repeats one before it in the row gets _2, _3,
// and a cell beyond the titles the key "#N" (its 1-based column).
nlohmann::json ProcessListJson(const PsArgs& a, const docker::TopResult& t) {
  nlohmann::json processes = nlohmann::json::array();
  for (const auto& row : t.processes) {
    nlohmann::json p = nlohmann::json::object();
    for (size_t i = 0; i < row.size(); ++i) {
      std::string key = i < t.titles.size() ? t.titles[i] : fmt::format("#{}", i + 1);
      for (int n = 2; p.contains(key); ++n) key = fmt::format("{}_{}", i < t.titles.size() ? t.titles[i] : "#", n);
      p[key] = row[i];
    }
    processes.push_back(std::move(p));
  }
  return {{"apiVersion", config::kConfigApiVersion}, {"kind", "ProcessList"}, {"node", a.container},
          {"psArgs", a.ps_args},  {"titles", t.titles},   {"processes", std::move(processes)}};
}

int RunPs(const PsArgs& a) {
  docker::ClientOptions copts;
  copts.call_timeout = Millis(a.timeout_s);
  auto client = docker::DockerClient::Create(copts);
  if (!client.ok()) return Report(client.status());
  auto top = (*client)->Top(a.container, a.ps_args);
  if (!top.ok()) return Report(top.status());
  if (a.json) {
    fmt::print("{}\n", JsonText(ProcessListJson(a, *top)));
  } else {
    PrintTable(*top);
  }
  return 0;
}

}  // namespace

void RegisterExec(CLI::App& app, Context& ctx) {
  auto ea = std::make_shared<ExecArgs>();
  CLI::App* exec = app.add_subcommand(
      "exec", "Run a command in a running container (node) through the Docker API; exits with its exit code");
  // Neither is required, nor --timeout checked, by CLI11, whose parse errors exit 2: RunExec
  // checks them, exiting 125 as docker exec does.
  exec->add_option("container", ea->container, "Container name or id");
  exec->add_option("cmd", ea->cmd, "Command and arguments (put them after --)");
  exec->add_option("-e,--env", ea->env, "Environment variable KEY=VAL (repeatable)");
  exec->add_option("-u,--user", ea->user, "User (name|uid[:group|gid]) to run as");
  exec->add_option("-w,--workdir", ea->workdir, "Working directory inside the container");
  exec->add_flag("-i,--interactive", ea->interactive,
                 "Attach stdin: copied to the command as it comes, its end passed on (docker exec -i)");
  exec->add_flag("-t,--tty", ea->tty,
                 "Allocate a pseudo-TTY (the stream is then raw, stderr merged); with -i, stdin must be a terminal, "
                 "held raw meanwhile");
  exec->add_option("--timeout", ea->timeout,
                   "Deadline for the whole exec, in seconds; past it the command is stopped in the node")
      ->default_val("3600");
  exec->footer(
      "Exit status: the command's own; 125 when kindmps-api itself fails (usage errors included). Without -i, "
      "stdin is not attached: stdin with data waiting is refused. After the deadline, a broken stream or a closed "
      "stdout, the command is stopped in the node (SIGTERM, then SIGKILL) and the line says so.");
  exec->callback([ea, &ctx] { ctx.exit_code = RunExec(*ea); });

  auto pa = std::make_shared<PsArgs>();
  CLI::App* ps = app.add_subcommand("ps", "Print the processes of a container (Docker API top)");
  ps->add_option("container", pa->container, "Container name or id")->required();
  ps->add_option("--ps-args", pa->ps_args, "Arguments for ps (default: the daemon's, -ef)");
  ps->add_flag("--json", pa->json, "Print a ProcessList JSON document (docs/json.md)");
  ps->add_option("--timeout", pa->timeout_s, "Deadline in seconds")->default_val(60)->check(CLI::Range(0.001, 1e7));
  ps->callback([pa, &ctx] { ctx.exit_code = RunPs(*pa); });
}

}  // namespace kmps::cli
