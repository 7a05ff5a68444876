// Raw mode and its restoration, the terminal's size and SIGWINCH, on a pseudo-terminal of the
// test's own (openpty).
#include "docker_api/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include <cstring>

namespace kmps::docker {
namespace {

class Pty {
 public:
  Pty() { EXPECT_EQ(::openpty(&master_, &slave_, nullptr, nullptr, nullptr), 0); }
  ~Pty() {
    ::close(master_);
    ::close(slave_);
  }
  int slave() const { return slave_; }
  termios Settings() const {
    termios t{};
    EXPECT_EQ(::tcgetattr(slave_, &t), 0);
    return t;
  }

 private:
  int master_ = -1, slave_ = -1;
};

bool SameSettings(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_lflag == b.c_lflag && a.c_cflag == b.c_cflag &&
         std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;  // cfmakeraw sets VMIN and VTIME
}

TEST(RawTerminalTest, RawWhileHeldAndRestoredAfter) {
  Pty pty;
  termios before = pty.Settings();
  ASSERT_NE(before.c_lflag & ICANON, 0u);  // a fresh pty is cooked
  {
    auto raw = RawTerminal::Enter(pty.slave());
    ASSERT_TRUE(raw.ok()) << raw.status().message();
    termios during = pty.Settings();
    EXPECT_EQ(during.c_lflag & (ICANON | ECHO | ISIG), 0u);
    EXPECT_EQ(during.c_oflag & OPOST, 0u);
    EXPECT_EQ(during.c_iflag & ICRNL, 0u);
    // One holder at a time.
    EXPECT_EQ(RawTerminal::Enter(pty.slave()).status().code(), Code::kFailed);
    (*raw)->Restore();
    EXPECT_TRUE(SameSettings(pty.Settings(), before));
    ::tcsetattr(pty.slave(), TCSANOW, &during);  // a second Restore (the destructor's) does nothing
  }
  EXPECT_EQ(pty.Settings().c_lflag & ICANON, 0u);
  ::tcsetattr(pty.slave(), TCSANOW, &before);
  {
    auto raw = RawTerminal::Enter(pty.slave());  // free again
    ASSERT_TRUE(raw.ok()) << raw.status().message();
  }
  EXPECT_TRUE(SameSettings(pty.Settings(), before));  // the destructor restores
}

TEST(RawTerminalTest, NotATerminalIsRefused) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  EXPECT_EQ(RawTerminal::Enter(p[0]).status().code(), Code::kInvalidArgument);
  ::close(p[0]);
  ::close(p[1]);
}

TEST(RawTerminalTest, ASignalThatEndsTheProcessRestoresTheTerminalFirst) {
  for (int signo : {SIGTERM, SIGHUP}) {
    Pty pty;
    termios before = pty.Settings();
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::signal(signo, SIG_DFL);
      auto raw = RawTerminal::Enter(pty.slave());
      if (!raw.ok()) ::_exit(10);
      termios t{};
      ::tcgetattr(pty.slave(), &t);
      if ((t.c_lflag & ICANON) != 0) ::_exit(11);
      ::raise(signo);
      ::_exit(12);  // not reached: the signal ends it
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), signo);
    EXPECT_TRUE(SameSettings(pty.Settings(), before)) << "signal " << signo;
  }
}

TEST(TerminalSizeTest, ReadsTheWindowSize) {
  Pty pty;
  winsize ws{};
  ws.ws_row = 45;
  ws.ws_col = 123;
  ASSERT_EQ(::ioctl(pty.slave(), TIOCSWINSZ, &ws), 0);
  auto size = SizeOfTerminal(pty.slave());
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->rows, 45u);
  EXPECT_EQ(size->cols, 123u);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(SizeOfTerminal(null).has_value());
  ::close(null);
}

TEST(WinchWatchTest, SigwinchMakesTheDescriptorReadable) {
  struct sigaction before {};
  ::sigaction(SIGWINCH, nullptr, &before);
  {
    auto w = WinchWatch::Start();
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_EQ(WinchWatch::Start().status().code(), Code::kFailed);
    pollfd p{(*w)->read_fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    ::raise(SIGWINCH);
    EXPECT_EQ(::poll(&p, 1, 1000), 1);
  }
  struct sigaction after {};
  ::sigaction(SIGWINCH, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace kmps::docker
