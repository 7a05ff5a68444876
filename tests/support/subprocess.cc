#include "support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kmps::testing {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) != 0) fd[0] = fd[1] = -1;
  }
  ~Pipe() {
    Close(0);
    Close(1);
  }
  void Close(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

ProcResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_text,
                      const std::map<std::string, std::string>& env,
                      std::chrono::milliseconds limit) {
  ProcResult res;
  if (argv.empty()) return res;
  Pipe in, out, err;
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  // A child that exits before reading all of its stdin must not kill the test with SIGPIPE: the
  // write then fails with EPIPE and stdin is closed.
  static const bool sigpipe_ignored = (signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  pid_t pid = fork();
  if (pid < 0) return res;
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in.fd[0], 0);
    dup2(out.fd[1], 1);
    dup2(err.fd[1], 2);
    signal(SIGPIPE, SIG_DFL);
    for (const auto& [k, v] : env) {
      if (v.empty()) unsetenv(k.c_str());
      else setenv(k.c_str(), v.c_str(), 1);
    }
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  in.Close(0);
  out.Close(1);
  err.Close(1);
  fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (stdin_text.empty()) in.Close(1);

  const auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      break;
    }
    pollfd p[3];
    int n = 0;
    int map[3];
    if (out.fd[0] >= 0) { p[n] = {out.fd[0], POLLIN, 0}; map[n++] = 1; }
    if (err.fd[0] >= 0) { p[n] = {err.fd[0], POLLIN, 0}; map[n++] = 2; }
    if (in.fd[1] >= 0) { p[n] = {in.fd[1], POLLOUT, 0}; map[n++] = 0; }
    int rc = poll(p, n, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) break;
    for (int i = 0; i < n && rc > 0; ++i) {
      if (p[i].revents == 0) continue;
      if (map[i] == 0) {
        ssize_t w = write(in.fd[1], stdin_text.data() + written, stdin_text.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == stdin_text.size()) in.Close(1);
        continue;
      }
      Pipe& pp = map[i] == 1 ? out : err;
      ssize_t r = read(pp.fd[0], buf, sizeof buf);
      if (r <= 0) {
        pp.Close(0);
      } else {
        (map[i] == 1 ? res.out : res.err).append(buf, static_cast<size_t>(r));
      }
    }
  }
  int st = 0;
  if (res.timed_out) {
    kill(-pid, SIGKILL);
    waitpid(pid, &st, 0);
    return res;
  }
  // Output closed; the process itself still gets the rest of the limit to exit.
  while (true) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      res.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &st, 0);
      return res;
    }
    usleep(5000);
  }
  res.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return res;
}

bool ProcessAlive(int pid) {
  if (pid <= 0) return false;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return false;
  std::string line;
  std::getline(f, line);
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return false;
  char state = line[close_paren + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace kmps::testing
