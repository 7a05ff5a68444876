// Our own terminal during `exec -i -t`: raw mode for as long as the exec runs, its size for the
// exec's TTY, and SIGWINCH as a readable descriptor for the stream's poll loop.
#pragma once

#include <signal.h>
#include <termios.h>

#include <memory>
#include <optional>

#include "common/status.h"

namespace kmps::docker {

// Holds terminal `fd` in raw mode (cfmakeraw: no echo, no line editing, no signals from keys, no
// output processing) and restores the settings it found when it goes or Restore() is called.
// While it holds, a SIGTERM, SIGHUP, SIGINT or SIGQUIT whose disposition is the default restores
// the terminal before it ends the process as it would have. One at a time per process.
class RawTerminal {
 public:
  // kInvalidArgument when `fd` is not a terminal; kFailed when another RawTerminal holds.
  static StatusOr<std::unique_ptr<RawTerminal>> Enter(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  // Restores the settings found (idempotent); the signal dispositions too.
  void Restore();

 private:
  RawTerminal() = default;
  bool held_ = false;
};

struct TerminalSize {
  unsigned rows = 0;
  unsigned cols = 0;
};

// The size of the terminal on `fd` (TIOCGWINSZ); nullopt when `fd` is not one or reports 0x0.
std::optional<TerminalSize> SizeOfTerminal(int fd);

// While it lives, each SIGWINCH makes read_fd() readable (a non-blocking self-pipe); the
// disposition found is restored when it goes. One at a time per process.
class WinchWatch {
 public:
  static StatusOr<std::unique_ptr<WinchWatch>> Start();
  ~WinchWatch();
  WinchWatch(const WinchWatch&) = delete;
  WinchWatch& operator=(const WinchWatch&) = delete;

  int read_fd() const { return read_fd_; }

 private:
  WinchWatch() = default;
  int read_fd_ = -1;
  struct sigaction previous_ {};
};

}  // namespace kmps::docker
