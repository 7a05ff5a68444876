#include "kind/kind_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/core.h>

#include "common/fd.h"

extern char** environ;

namespace kmps::kind {

std::vector<std::string> CreateClusterArgs(const std::string& kind, const std::string& name,
                                           const std::string& config_path, const std::string& image) {
  std::vector<std::string> args = {kind, "create", "cluster", "--name", name, "--config", config_path};
  if (!image.empty()) {
    args.push_back("--image");
    args.push_back(image);
  }
  return args;
}

std::vector<std::string> DeleteClusterArgs(const std::string& kind, const std::string& name) {
  return {kind, "delete", "cluster", "--name", name};
}

StatusOr<std::string> FindExecutable(const std::string& name_or_path) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name_or_path.find('/') != std::string::npos) {
    if (executable(name_or_path)) return name_or_path;
    return EnvironmentMissing(fmt::format("{} is not an executable file", name_or_path));
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string_view::npos) end = dirs.size();
    std::string dir(dirs.substr(pos, end - pos));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name_or_path;
    if (executable(candidate)) return candidate;
    pos = end + 1;
  }
  return EnvironmentMissing(fmt::format("{} not found on PATH (install it, or pass its path)", name_or_path));
}

namespace {


int ExitCodeOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

}  // namespace

StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, Deadline deadline,
                                   const std::function<void(std::string_view)>& on_line, size_t tail_lines) {
  if (argv.empty()) return InvalidArgument("no program to run");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Failed(fmt::format("pipe: {}", std::strerror(errno)));
  UniqueFd read_end(fds[0]), write_end(fds[1]);

  posix_spawn_file_actions_t actions;
  if (int e = posix_spawn_file_actions_init(&actions); e != 0) {
    return Failed(fmt::format("cannot run {}: {}", argv[0], std::strerror(e)));
  }
  int rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  if (rc == 0) rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (rc != 0) return EnvironmentMissing(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));

  ProcessResult result;
  std::string pending;
  auto emit = [&](std::string_view line) {
    if (on_line) on_line(line);
    result.tail.emplace_back(line);
    if (result.tail.size() > tail_lines) result.tail.pop_front();
  };
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    struct pollfd p = {read_end.get(), POLLIN, 0};
    int wait_ms = static_cast<int>(std::min<long long>(deadline.Remaining().count(), 1000));
    int n = ::poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      if (deadline.Expired()) { timed_out = true; break; }
      continue;
    }
    ssize_t got = ::read(read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    pending.append(buf, static_cast<size_t>(got));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      emit(std::string_view(pending).substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  if (!pending.empty()) emit(pending);

  int wstatus = 0;
  if (timed_out) {
    ::kill(pid, SIGTERM);
    bool reaped = false;
    for (int i = 0; i < 50 && !reaped; ++i) {
      reaped = ::waitpid(pid, &wstatus, WNOHANG) == pid;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!reaped) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &wstatus, 0);
    }
    return DeadlineExceeded(fmt::format("{} did not finish in time and was stopped", argv[0]));
  }
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = ExitCodeOf(wstatus);
  return result;
}

}  // namespace kmps::kind
