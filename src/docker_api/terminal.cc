#include "docker_api/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace kmps::docker {

namespace {

// What a signal handler needs, set before the handlers are installed.
// SIGABRT too: an exception that escapes while the terminal is raw ends in std::terminate.
constexpr int kFatal[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGABRT};
std::atomic<bool> g_raw_held{false};
int g_raw_fd = -1;
struct termios g_saved {};
struct sigaction g_previous[std::size(kFatal)];
bool g_installed[std::size(kFatal)] = {};

void RestoreAndReraise(int signo) {
  ::tcsetattr(g_raw_fd, TCSANOW, &g_saved);  // async-signal-safe
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ::sigaction(signo, &dfl, nullptr);
  ::raise(signo);  // delivered once this handler returns: the process ends as it would have
}

std::atomic<bool> g_winch_held{false};
int g_winch_write = -1;

void OnWinch(int) {
  int saved = errno;
  char b = 1;
  [[maybe_unused]] ssize_t n = ::write(g_winch_write, &b, 1);  // a full pipe already says "changed"
  errno = saved;
}

}  // namespace

StatusOr<std::unique_ptr<RawTerminal>> RawTerminal::Enter(int fd) {
  if (!::isatty(fd)) return InvalidArgument(fmt::format("descriptor {} is not a terminal", fd));
  if (g_raw_held.exchange(true)) return Failed("a terminal is already held in raw mode");
  std::unique_ptr<RawTerminal> holder(new RawTerminal());
  holder->held_ = true;
  struct termios now {};
  if (::tcgetattr(fd, &now) != 0) {
    int e = errno;
    holder->held_ = false;
    g_raw_held = false;
    return Failed(fmt::format("tcgetattr: {}", std::strerror(e)));
  }
  g_raw_fd = fd;
  g_saved = now;
  for (size_t i = 0; i < std::size(kFatal); ++i) {
    g_installed[i] = false;
    struct sigaction found {};
    if (::sigaction(kFatal[i], nullptr, &found) != 0 || found.sa_handler != SIG_DFL) continue;
    struct sigaction mine {};
    mine.sa_handler = &RestoreAndReraise;
    ::sigemptyset(&mine.sa_mask);
    g_installed[i] = ::sigaction(kFatal[i], &mine, &g_previous[i]) == 0;
  }
  struct termios raw = now;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) != 0) {
    int e = errno;
    holder->Restore();
    return Failed(fmt::format("tcsetattr: {}", std::strerror(e)));
  }
  return holder;
}

RawTerminal::~RawTerminal() { Restore(); }

void RawTerminal::Restore() {
  if (!held_) return;
  held_ = false;
  ::tcsetattr(g_raw_fd, TCSANOW, &g_saved);
  for (size_t i = 0; i < std::size(kFatal); ++i) {
    if (g_installed[i]) ::sigaction(kFatal[i], &g_previous[i], nullptr);
    g_installed[i] = false;
  }
  g_raw_fd = -1;
  g_raw_held = false;
}

std::optional<TerminalSize> SizeOfTerminal(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return std::nullopt;
  return TerminalSize{ws.ws_row, ws.ws_col};
}

StatusOr<std::unique_ptr<WinchWatch>> WinchWatch::Start() {
  if (g_winch_held.exchange(true)) return Failed("SIGWINCH is already watched");
  int p[2];
  if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
    int e = errno;
    g_winch_held = false;
    return Failed(fmt::format("pipe2: {}", std::strerror(e)));
  }
  std::unique_ptr<WinchWatch> w(new WinchWatch());
  w->read_fd_ = p[0];
  g_winch_write = p[1];
  struct sigaction mine {};
  mine.sa_handler = &OnWinch;
  ::sigemptyset(&mine.sa_mask);
  mine.sa_flags = SA_RESTART;
  ::sigaction(SIGWINCH, &mine, &w->previous_);
  return w;
}

WinchWatch::~WinchWatch() {
  ::sigaction(SIGWINCH, &previous_, nullptr);
  ::close(read_fd_);
  ::close(g_winch_write);
  g_winch_write = -1;
  g_winch_held = false;
}

}  // namespace kmps::docker
