#include "common/interrupt.h"

#include <atomic>

namespace kmps {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free atomic");

void OnSignal(int signo) {
  int none = 0;
  if (g_signal.compare_exchange_strong(none, signo)) return;
  // The second one: the user wants out now.
  std::signal(signo, SIG_DFL);
  std::raise(signo);
}

}  // namespace

InterruptWatch::InterruptWatch() {
  g_signal.store(0);
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESTART | SA_ONSTACK;  // SA_ONSTACK: a Go host's rule for every handler
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < 4; ++i) {
    if (::sigaction(kSignals[i], nullptr, &previous_[i]) != 0) continue;
    bool ignored = (previous_[i].sa_flags & SA_SIGINFO) == 0 && previous_[i].sa_handler == SIG_IGN;
    installed_[i] = !ignored && ::sigaction(kSignals[i], &sa, nullptr) == 0;
  }
}

InterruptWatch::~InterruptWatch() {
  for (size_t i = 0; i < 4; ++i) {
    if (installed_[i]) ::sigaction(kSignals[i], &previous_[i], nullptr);
  }
  g_signal.store(0);  // what it recorded was its own flow's
}

int InterruptSignal() { return g_signal.load(); }  // 0 outside a watch: the destructor clears it

}  // namespace kmps
