#include "kind/kind_runner.h"

#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <regex>
#include <thread>

#include <fmt/core.h>

#include "common/fd.h"
#include "common/text.h"

extern char** environ;

namespace kmps::kind {

std::vector<std::string> CreateClusterArgs(const std::string& kind, const std::string& name,
                                           const std::string& config_path, const std::string& image,
                                           const KindFlags& flags) {
  std::vector<std::string> args = {kind, "create", "cluster", "--name", name, "--config", config_path};
  if (!image.empty()) {
    args.push_back("--image");
    args.push_back(image);
  }
  if (!flags.wait.empty()) {
    args.push_back("--wait");
    args.push_back(flags.wait);
  }
  if (flags.retain) args.push_back("--retain");
  if (!flags.kubeconfig.empty()) {
    args.push_back("--kubeconfig");
    args.push_back(flags.kubeconfig);
  }
  return args;
}

std::vector<std::string> DeleteClusterArgs(const std::string& kind, const std::string& name, const KindFlags& flags) {
  std::vector<std::string> args = {kind, "delete", "cluster", "--name", name};
  if (!flags.kubeconfig.empty()) {
    args.push_back("--kubeconfig");
    args.push_back(flags.kubeconfig);
  }
  return args;
}

bool IsKindDuration(const std::string& text) {
  if (text == "0") return true;
  static const std::regex re("^([0-9]+(h|m|s|ms|us|ns))+$");
  return text.size() <= 32 && std::regex_match(text, re);
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

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kGroupPoll{50};       // how often a group is looked at once its leader is gone
constexpr milliseconds kLongestPoll{1000};
constexpr milliseconds kAfterKill{5000};     // KILL sent: how long a process the kernel holds is waited for
constexpr size_t kReadChunk = 64 * 1024;      // a pipe's capacity: one read empties it

int ExitCodeOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

milliseconds Until(Clock::time_point t) {
  return std::max(std::chrono::duration_cast<milliseconds>(t - Clock::now()), milliseconds(0));
}

// ---- SIGINT, SIGTERM, SIGHUP and SIGQUIT while RunProcess waits ----
// The child leads a process group of its own, so the terminal's Ctrl-C reaches only us. A handler
// writes each signal's number into the wake-up pipe of every RunProcess under way, which forwards
// it to its child's group. The handler touches only lock-free atomics, write(2) and errno.

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr size_t kForwardedCount = sizeof kForwarded / sizeof kForwarded[0];
constexpr size_t kWakeSlots = 64;  // RunProcess calls at once that get signals forwarded

struct WakeSlot {
  std::atomic<int> fd{-1};   // the write end of one call's wake-up pipe
  std::atomic<int> busy{0};  // handlers between reading fd and being done with it
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
WakeSlot g_wake[kWakeSlots];

std::mutex g_handlers_mu;  // guards the three below
int g_handler_users = 0;
struct sigaction g_previous[kForwardedCount];
bool g_installed[kForwardedCount];

void OnForwardedSignal(int signo) {
  int saved_errno = errno;
  unsigned char byte = static_cast<unsigned char>(signo);
  for (WakeSlot& slot : g_wake) {
    slot.busy.fetch_add(1);
    int fd = slot.fd.load();
    if (fd >= 0) {
      ssize_t n = ::write(fd, &byte, 1);  // non-blocking: a full pipe holds signals enough
      (void)n;
    }
    slot.busy.fetch_sub(1);
  }
  errno = saved_errno;
}

// One RunProcess call's wake-up pipe. The first of the calls under way installs the handler for
// the signals not ignored; the last restores the dispositions it found.
class SignalWatch {
 public:
  SignalWatch() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    read_.reset(fds[0]);
    write_.reset(fds[1]);
    std::lock_guard<std::mutex> lock(g_handlers_mu);
    for (size_t i = 0; i < kWakeSlots && slot_ == nullptr; ++i) {
      if (g_wake[i].fd.load() < 0) slot_ = &g_wake[i];
    }
    if (slot_ == nullptr) {  // that many calls at once: this one gets no signal forwarded
      read_.reset();
      return;
    }
    slot_->fd.store(write_.get());
    if (g_handler_users++ > 0) return;
    struct sigaction sa = {};
    sa.sa_handler = OnForwardedSignal;
    // SA_ONSTACK: a Go program (the Go binding) runs its code on small stacks and requires it of
    // every handler it did not install; SA_RESTART: calls of other threads are not cut short.
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int s : kForwarded) sigaddset(&sa.sa_mask, s);
    for (size_t i = 0; i < kForwardedCount; ++i) {
      g_installed[i] = false;
      if (::sigaction(kForwarded[i], nullptr, &g_previous[i]) != 0) continue;
      bool ignored = (g_previous[i].sa_flags & SA_SIGINFO) == 0 && g_previous[i].sa_handler == SIG_IGN;
      g_installed[i] = !ignored && ::sigaction(kForwarded[i], &sa, nullptr) == 0;
    }
  }
  ~SignalWatch() { Release(); }
  // Gives the share back (the last one restores the dispositions) and returns the signals that
  // arrived and were not taken.
  std::vector<int> Release() {
    if (slot_ == nullptr) return {};
    {
      std::lock_guard<std::mutex> lock(g_handlers_mu);
      if (--g_handler_users == 0) {
        for (size_t i = 0; i < kForwardedCount; ++i) {
          if (g_installed[i]) ::sigaction(kForwarded[i], &g_previous[i], nullptr);
        }
      }
      slot_->fd.store(-1);
      while (slot_->busy.load() != 0) std::this_thread::yield();  // a handler may still hold our fd
      slot_ = nullptr;
    }
    return Take();
  }
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  int fd() const { return read_.get(); }
  // The signals delivered since the last call, oldest first.
  std::vector<int> Take() {
    std::vector<int> signals;
    unsigned char got[16];
    ssize_t n;
    while ((n = ::read(read_.get(), got, sizeof got)) > 0) signals.insert(signals.end(), got, got + n);
    return signals;
  }

 private:
  UniqueFd read_, write_;
  WakeSlot* slot_ = nullptr;
};

// posix_spawn of argv: stdin /dev/null, stdout and stderr on `out`, leader of a new process
// group, no signal blocked.
Status Spawn(const std::vector<std::string>& argv, int out, pid_t* pid, const std::vector<std::string>& env) {
  // The inherited environment, less the names `env` sets, then `env`.
  std::vector<char*> cenv;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& o) {
      return std::string_view(o).substr(0, o.find('=')) == name;
    });
    if (!replaced) cenv.push_back(*e);
  }
  for (size_t i = 0; i < env.size(); ++i) {  // of two entries for one name, the later one
    std::string_view name = std::string_view(env[i]).substr(0, env[i].find('='));
    bool later = std::any_of(env.begin() + static_cast<long>(i) + 1, env.end(), [&](const std::string& o) {
      return std::string_view(o).substr(0, o.find('=')) == name;
    });
    if (!later) cenv.push_back(const_cast<char*>(env[i].c_str()));
  }
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  if (int e = posix_spawn_file_actions_init(&actions); e != 0) {
    return Failed(fmt::format("cannot run {}: {}", argv[0], std::strerror(e)));
  }
  posix_spawnattr_t attr;
  if (int e = posix_spawnattr_init(&attr); e != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return Failed(fmt::format("cannot run {}: {}", argv[0], std::strerror(e)));
  }
  sigset_t none;
  sigemptyset(&none);
  int rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, out, 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, out, 2);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  if (rc == 0) rc = ::posix_spawn(pid, argv[0].c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return EnvironmentMissing(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  return Status::Ok();
}

// A descriptor that poll() reports readable once `pid` has exited; -1 where the kernel has none
// (the child is then looked at every kGroupPoll).
int OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

// The child's output, split into lines for on_line and the tail: each chunk read is scanned
// once, a line that lies whole in it goes out from there, and only the start of a line that
// continues in the next chunk is kept, at most max_line bytes of it.
class Lines {
 public:
  Lines(const std::function<void(std::string_view)>& on_line, size_t tail_lines, std::deque<std::string>& tail,
        size_t max_line)
      : on_line_(on_line), tail_lines_(tail_lines), tail_(tail), max_line_(std::max<size_t>(max_line, 1)) {}
  void Add(const char* data, size_t n) {
    std::string_view chunk(data, n);
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      std::string_view part = chunk.substr(0, nl);
      if (nl == std::string_view::npos) {
        Keep(part);
        return;
      }
      if (pending_.empty() && cut_ == 0 && part.size() <= max_line_) {
        Emit(part, 0);  // whole in this chunk: no copy
      } else {
        Keep(part);
        Emit(pending_, cut_);
        pending_.clear();
        cut_ = 0;
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  void Finish() {
    if (!pending_.empty() || cut_ != 0) Emit(pending_, cut_);
    pending_.clear();
    cut_ = 0;
  }

 private:
  // Part of a line that goes on in the next chunk: held up to max_line_, the rest only counted.
  void Keep(std::string_view part) {
    if (cut_ != 0) {
      cut_ += part.size();
      return;
    }
    size_t room = max_line_ - pending_.size();
    if (part.size() <= room) {
      pending_.append(part);
      return;
    }
    pending_.append(part.substr(0, room));
    size_t keep = Utf8CompleteLength(pending_);  // cut on a character
    cut_ = part.size() - room + (pending_.size() - keep);
    pending_.erase(keep);
  }
  void Emit(std::string_view line, size_t cut) {
    if (cut == 0 && !line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF
    std::string shown = TerminalSafe(line);
    if (cut != 0) shown += CutMark(cut);
    if (on_line_) on_line_(shown);
    tail_.push_back(std::move(shown));
    if (tail_.size() > tail_lines_) tail_.pop_front();
  }
  const std::function<void(std::string_view)>& on_line_;
  size_t tail_lines_;
  std::deque<std::string>& tail_;
  size_t max_line_;
  std::string pending_;  // the start of the line under way, at most max_line_ bytes
  size_t cut_ = 0;       // bytes of it dropped past max_line_
};

}  // namespace

namespace {

// Calls fn(comm) for each member of group `pgid` that is not a zombie, while fn returns true.
template <typename Fn>
void ForEachGroupMember(pid_t pgid, Fn&& fn) {
  // Orphans are reparented to PID 1, which may reap them late (or, in a container, never); a
  // zombie has done all it will do, so only members that are not zombies count.
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    fn(std::string());
    return;
  }
  for (bool more = true; more;) {
    struct dirent* e = ::readdir(proc);
    if (e == nullptr) break;
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    UniqueFd stat(::open(fmt::format("/proc/{}/stat", e->d_name).c_str(), O_RDONLY | O_CLOEXEC));
    char text[512];
    ssize_t n = stat.get() < 0 ? -1 : ::read(stat.get(), text, sizeof text - 1);
    if (n <= 0) continue;  // gone meanwhile
    text[n] = '\0';
    // "pid (comm) state ppid pgrp ..."; comm may hold anything, so parse after its last ')'.
    const char* open = std::strchr(text, '(');
    const char* close = std::strrchr(text, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (open != nullptr && close != nullptr && close > open &&
        std::sscanf(close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid && state != 'Z' &&
        state != 'X') {
      more = fn(std::string(open + 1, close));
    }
  }
  ::closedir(proc);
}

}  // namespace

bool ProcessGroupAlive(pid_t pgid) {
  // EPERM: a member runs under another user; whether it is more than a zombie is read from /proc.
  if (::kill(-pgid, 0) != 0 && errno != EPERM) return false;
  bool alive = false;
  ForEachGroupMember(pgid, [&](const std::string&) { return !(alive = true); });
  return alive;
}

std::vector<std::string> ProcessGroupCommands(pid_t pgid) {
  std::vector<std::string> commands;
  if (::kill(-pgid, 0) != 0 && errno != EPERM) return commands;
  ForEachGroupMember(pgid, [&](const std::string& comm) {
    commands.push_back(comm);
    return true;
  });
  return commands;
}

namespace {

// Whether a member of group `pgid` is one RunLimits::awaited_leftovers names.
bool AwaitedLeftoverRuns(pid_t pgid, const RunLimits& limits) {
  if (limits.awaited_leftovers.empty()) return false;
  for (const auto& comm : ProcessGroupCommands(pgid)) {
    for (const auto& name : limits.awaited_leftovers) {
      if (comm == name) return true;
    }
  }
  return false;
}

}  // namespace

std::string CutMark(size_t bytes_cut) { return fmt::format(" \u2026 [{} bytes cut]", bytes_cut); }

std::string SignalName(int signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGKILL: return "SIGKILL";
    default: return fmt::format("signal {}", signo);
  }
}

StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, Deadline deadline,
                                   const std::function<void(std::string_view)>& on_line, size_t tail_lines,
                                   const RunLimits& limits, const std::vector<std::string>& env) {
  if (argv.empty()) return InvalidArgument("no program to run");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Failed(fmt::format("pipe: {}", std::strerror(errno)));
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  // Only our end is non-blocking: the child's stdout stays as programs expect it.
  if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) return Failed(fmt::format("pipe: {}", std::strerror(errno)));

  SignalWatch signals;  // from here on, SIGINT, SIGTERM, SIGHUP and SIGQUIT are for the child's group
  pid_t pid = 0;
  KMPS_RETURN_IF_ERROR(Spawn(argv, write_end.get(), &pid, env));
  write_end.reset();
  const pid_t pgid = pid;
  UniqueFd pidfd(OpenPidfd(pid));

  ProcessResult result;
  Lines lines(on_line, tail_lines, result.tail, limits.max_line_bytes);
  bool pipe_open = true, reaped = false, exit_known = false, group_gone = false;
  int wstatus = 0;
  int interrupted_by = 0;                         // the first signal forwarded
  bool termed = false, exited_before_deadline = false, killed = false;
  bool leftovers_termed = false;                  // TERM leftover_grace after the child exited
  Clock::time_point kill_at{}, give_up_at{}, gone_at{}, leftovers_at{}, next_group_look{};
  std::vector<char> buf(kReadChunk);
  for (;;) {
    struct pollfd p[3];
    nfds_t n = 0;
    int out_i = -1, sig_i = -1;
    if (pipe_open) { out_i = static_cast<int>(n); p[n++] = {read_end.get(), POLLIN, 0}; }
    if (signals.fd() >= 0 && !group_gone) { sig_i = static_cast<int>(n); p[n++] = {signals.fd(), POLLIN, 0}; }
    bool watch_child = !reaped && pidfd.get() >= 0;
    if (watch_child) p[n++] = {pidfd.get(), POLLIN, 0};
    milliseconds wait = watch_child ? kLongestPoll : kGroupPoll;
    bool stopping = termed || leftovers_termed || interrupted_by != 0;
    if (!stopping) wait = std::min(wait, deadline.Remaining());
    if (!stopping && reaped) wait = std::min(wait, Until(leftovers_at));
    if (stopping && !killed) wait = std::min(wait, Until(kill_at));
    int ready = ::poll(p, n, static_cast<int>(wait.count()));
    if (ready < 0) ready = 0;  // EINTR: a signal, which the wake-up pipe holds

    if (sig_i >= 0 && (p[sig_i].revents & POLLIN)) {
      for (int s : signals.Take()) {
        if (!group_gone) ::kill(-pgid, s);
        if (interrupted_by == 0) {
          interrupted_by = s;
          if (!termed && !leftovers_termed) kill_at = Clock::now() + limits.interrupt_grace;
        }
      }
    }
    if (out_i >= 0 && p[out_i].revents != 0) {
      ssize_t got = ::read(read_end.get(), buf.data(), buf.size());
      if (got > 0) lines.Add(buf.data(), static_cast<size_t>(got));
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) pipe_open = false;
    }
    if (!reaped) {
      pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
      exit_known = w == pid;
      reaped = exit_known || (w < 0 && errno == ECHILD);  // ECHILD: SIGCHLD ignored, the kernel reaped it
      if (reaped) leftovers_at = Clock::now() + limits.leftover_grace;
    }
    auto now = Clock::now();
    // /proc is read at most every kGroupPoll, not once per read while output flows.
    if (reaped && !group_gone && now >= next_group_look) {
      next_group_look = now + kGroupPoll;
      if (!ProcessGroupAlive(pgid)) {
        group_gone = true;
        gone_at = now;
      }
    }
    // Done once the group is gone and the pipe closed, or held only by a process outside it.
    if (group_gone && (!pipe_open || now - gone_at >= limits.output_grace)) break;
    if (group_gone) continue;  // only output is waited for: nothing left to stop
    stopping = termed || leftovers_termed || interrupted_by != 0;
    if (!stopping && deadline.Expired()) {
      termed = true;
      exited_before_deadline = reaped;
      ::kill(-pgid, SIGTERM);
      kill_at = now + limits.term_grace;
    } else if (!stopping && reaped && now >= leftovers_at && AwaitedLeftoverRuns(pgid, limits)) {
      leftovers_at = now + kGroupPoll * 4;  // a `docker run` of kind's still making its node
    } else if (!stopping && reaped && now >= leftovers_at && !ProcessGroupAlive(pgid)) {
      // The last member (an awaited one, say) ended since the group was last looked at: nothing
      // was left running, so nothing is stopped.
      group_gone = true;
      gone_at = now;
    } else if (!stopping && reaped && now >= leftovers_at) {
      leftovers_termed = true;  // the child is done; what it left running is not waited for longer
      ::kill(-pgid, SIGTERM);
      kill_at = now + limits.term_grace;
    } else if (stopping && !killed && now >= kill_at) {
      killed = true;
      ::kill(-pgid, SIGKILL);
      give_up_at = now + kAfterKill;
    } else if (killed && now >= give_up_at) {
      break;  // a process that even KILL did not end (held in the kernel): stop waiting
    }
  }
  for (int i = 0; pipe_open && i < 64; ++i) {  // what came last, while a process outside holds the pipe
    ssize_t got = ::read(read_end.get(), buf.data(), buf.size());
    if (got <= 0) break;
    lines.Add(buf.data(), static_cast<size_t>(got));
  }
  lines.Finish();
  if (!reaped) exit_known = ::waitpid(pid, &wstatus, WNOHANG) == pid;
  // A signal that came once the group was gone had no one to go to: it gets the disposition
  // restored now, as if RunProcess had not been there.
  for (int s : signals.Release()) {
    if (interrupted_by == 0) std::raise(s);
  }
  std::string left = group_gone ? "" : "; a process of its group outlived SIGKILL";
  if (interrupted_by != 0) {
    return Status::Interrupted(interrupted_by,
                               fmt::format("{} was stopped by {}{}", argv[0], SignalName(interrupted_by), left));
  }
  if (termed) {
    return DeadlineExceeded(
        exited_before_deadline
            ? fmt::format("{} exited, but a process it started was still running at the deadline and was stopped{}",
                          argv[0], left)
            : fmt::format("{} did not finish in time and was stopped{}", argv[0], left));
  }
  result.stopped_leftovers = leftovers_termed;
  result.leftovers_outlived_kill = leftovers_termed && !group_gone;
  result.exit_code = exit_known ? ExitCodeOf(wstatus) : -1;
  return result;
}

}  // namespace kmps::kind
