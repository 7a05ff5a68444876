// A clean stop on Ctrl-C for a front end (the CLI): while an InterruptWatch lives, SIGINT,
// SIGTERM, SIGHUP and SIGQUIT (those not ignored) are recorded instead of ending the process, and
// the flow stops at its next step boundary (cluster::StepRunner), saying what it left. A second
// signal ends the process at once, as it would have. The library never installs one: a program
// that links it keeps its own dispositions.
#pragma once

#include <csignal>

namespace kmps {

class InterruptWatch {
 public:
  InterruptWatch();
  ~InterruptWatch();  // the dispositions found are restored
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  struct sigaction previous_[4];
  bool installed_[4] = {};
};

// The first signal recorded while a watch lived; 0 when none was.
int InterruptSignal();

}  // namespace kmps
